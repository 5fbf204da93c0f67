"""A real Ray cluster on 127.0.0.1 for the tests: a head without CPUs, so every run lands on a worker node, and
worker nodes a test can start, kill and start again, each under a role name. Each node runs in a process group of
its own, so ending one kills exactly its processes (and none of anyone else's Ray on this machine)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time

NODE_START_SECONDS = 120
# The head notices a lost node within about 2 s instead of Ray's default 15-30 s: same behaviour, sooner.
FAST_HEALTH_CHECKS = {"RAY_health_check_period_ms": "500", "RAY_health_check_timeout_ms": "1000",
                      "RAY_health_check_failure_threshold": "3"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalRayCluster:
    def __init__(self) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        self._groups: dict[str, int] = {}
        self.node_ids: dict[str, str] = {}  # of the worker nodes running now, by role

    def _start_node(self, role: str, arguments: list[str], env: dict[str, str]) -> None:
        # `ray start` returns once its node is up, leaving the node's processes in the session it was given.
        starter = subprocess.Popen(["ray", "start", "--node-ip-address=127.0.0.1", "--disable-usage-stats",
                                    *arguments], env=env, start_new_session=True, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        self._groups[role] = starter.pid
        output, _ = starter.communicate(timeout=NODE_START_SECONDS)
        if starter.returncode != 0:
            raise RuntimeError(f"ray start ({role}) failed:\n{output}")

    def start_head(self) -> None:
        port = self.address.rsplit(":", 1)[1]
        self._start_node("head", ["--head", f"--port={port}", "--num-cpus=0", "--include-dashboard=false"],
                         {**os.environ, **FAST_HEALTH_CHECKS})

    def start_worker(self, cpus: int = 2, role: str = "worker") -> str:
        """Start a worker node under ``role``; its Ray node id once the cluster sees it."""
        import ray

        from digits.background.engine_ray import connect

        connect(self.address)
        before = {node["NodeID"] for node in ray.nodes()}
        self._start_node(role, [f"--address={self.address}", f"--num-cpus={cpus}"], dict(os.environ))
        deadline = time.monotonic() + NODE_START_SECONDS
        while time.monotonic() < deadline:
            joined = [node["NodeID"] for node in ray.nodes() if node["Alive"] and node["NodeID"] not in before]
            if joined:
                self.node_ids[role] = joined[0]
                return joined[0]
            time.sleep(0.2)
        raise RuntimeError(f"the {role} node never joined the cluster")

    def kill(self, role: str) -> None:
        """SIGKILL every process of that node, as when its machine dies."""
        group = self._groups.pop(role, None)
        self.node_ids.pop(role, None)
        if group is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)

    def stop(self) -> None:
        import ray

        ray.shutdown()
        for role in list(self._groups):
            self.kill(role)
