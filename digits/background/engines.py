"""Which engine runs the jobs: the one module that knows every engine, so the job base classes (digits.background.jobs)
never import the engines built on them."""

from __future__ import annotations

import os

from digits.background.engine_local import LocalEngine
from digits.background.jobs import Engine

RAY_ADDRESS_ENV = "DIGITS_RAY_ADDRESS"


def engine_from_environment(
    max_running: int = 2, niceness: int | None = None, ray_address: str | None = None
) -> Engine:
    """Ray at ``ray_address``, else at DIGITS_RAY_ADDRESS when that names a cluster, else a process per run on
    this machine, ``max_running`` at a time, ``niceness`` below this process's priority (default: the local
    engine's)."""
    address = ray_address or os.environ.get(RAY_ADDRESS_ENV)
    if address:
        from digits.background.engine_ray import RayEngine  # Ray is optional: imported only when asked for

        return RayEngine(address)
    return LocalEngine(max_running) if niceness is None else LocalEngine(max_running, niceness)
