"""The job engines side by side on this machine: 8 classic-MLP runs of 1 epoch all started at once, through
the local engine (a process per run, 2 at a time) and through Ray (a head without CPUs and a worker node
with 2, 1 CPU per run, so also 2 at a time); and one run alone through each, from start to saved record,
to show what Ray adds per run. Needs Ray (requirements-cluster.txt) and DIGITS_DATA_DIR.

    PYTHONPATH=. python benchmarks/engine.py [--runs 8] [--epochs 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from digits.background.engine_local import LocalEngine
from digits.background.engine_ray import RayEngine
from digits.background.jobs import Engine, JobStatus
from digits.background.tasks import TrainTask
from digits.data import load_mnist
from digits.models import default_hyperparameters
from digits.store import ModelStore
from tests.ray_cluster import LocalRayCluster

CAP = 2


def race(engine: Engine, runs: int, epochs: int, store: ModelStore, label: str) -> float:
    """Seconds from starting ``runs`` runs at once until the last is saved."""
    started = time.perf_counter()
    jobs = [engine.job(TrainTask(default_hyperparameters("mlp", epochs=epochs, seed=index),
                                 store.unique_name(f"{label}-{index}"), load_mnist), store).start()
            for index in range(runs)]
    for job in jobs:
        job.wait()
        snapshot = job.snapshot()
        assert snapshot.status == JobStatus.FINISHED, snapshot.error
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    load_mnist()  # a data problem shows before anything starts
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        store = ModelStore(folder, builtin=None)
        local = LocalEngine(max_running=CAP)
        rows["local: one run alone"] = race(local, 1, args.epochs, store, "local-one")
        rows[f"local: {args.runs} runs, {CAP} at a time"] = race(local, args.runs, args.epochs, store, "local")
        cluster = LocalRayCluster()
        try:
            cluster.start_head()
            cluster.start_worker(cpus=CAP)
            ray = RayEngine(cluster.address, cpus_per_run=1)
            rows["ray: one run alone, first (ships code and data)"] = race(ray, 1, args.epochs, store, "ray-first")
            rows["ray: one run alone"] = race(ray, 1, args.epochs, store, "ray-one")
            rows[f"ray: {args.runs} runs, {CAP} CPUs, 1 per run"] = race(ray, args.runs, args.epochs, store, "ray")
        finally:
            cluster.stop()
    print(f"classic MLP, {args.epochs} epoch(s) per run; seconds from start until the last run is saved")
    for label, seconds in rows.items():
        print(f"{label:<50} {seconds:7.1f} s")
    many_local = rows[f"local: {args.runs} runs, {CAP} at a time"]
    many_ray = rows[f"ray: {args.runs} runs, {CAP} CPUs, 1 per run"]
    one_local, one_ray = rows["local: one run alone"], rows["ray: one run alone"]
    print(f"{args.runs} runs: ray / local = {many_ray / many_local:.2f}")
    print(f"one run: ray / local = {one_ray / one_local:.2f} (ray adds {one_ray - one_local:+.1f} s per run)")


if __name__ == "__main__":
    main()
