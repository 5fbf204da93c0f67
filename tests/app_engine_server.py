"""A stand-in for the app's server in tests that kill it: the app's job registry on the app's engine (as
ui.resources makes them), carrying on what its journal holds, then running the task pickled in argv[1] with the
store at argv[2], until it is killed.

    python tests/app_engine_server.py TASK_PICKLE MODELS_DIR
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from digits.background.engines import engine_from_environment
from digits.background.jobs import JobRegistry
from digits.store import ModelStore


def main() -> None:
    task_file, models_dir = Path(sys.argv[1]), Path(sys.argv[2])
    store = ModelStore(models_dir, builtin=None)
    registry = JobRegistry(engine_from_environment())
    registry.resume_interrupted(store)
    job = registry.submit("the person who started it", pickle.loads(task_file.read_bytes()), store)
    print(job.job_id, flush=True)
    job.wait()


if __name__ == "__main__":
    main()
