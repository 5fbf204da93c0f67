"""Cost of the snapshots of the network (digits.snapshot_recorder): the same run trained through a job (by
default the local engine's, a process of its own, as the app and the CLI train; ``--engine ray``, an actor on a
Ray cluster of one worker node started on this machine) with snapshots and without, alternating, for the MLP
and the CNN at their default settings; training seconds compared like for like (each run's own record). Also,
where the runs train (this process, or a task on the Ray worker), the seconds spent taking snapshots as a share
of training.

    PYTHONPATH=. python benchmarks/snapshot_overhead.py [--kinds mlp cnn] [--repeats 2] [--epochs N] \
        [--engine local|ray] [--in-process-only]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from digits.background.engine_local import LocalEngine
from digits.background.jobs import Engine
from digits.background.tasks import TrainTask
from digits.data import load_mnist
from digits.models import default_hyperparameters
from digits.snapshot_recorder import SnapshotRecorder
from digits.snapshots import Recording, choose_probe
from digits.store import ModelStore
from digits.training import new_metrics, train, training_count

RAY_CPUS = 2  # the worker node's, all given to the run: as many as a local run uses on this machine


def job_seconds(engine: Engine, hp, snapshots: bool, store: ModelStore) -> tuple[float, int]:
    """Training seconds of one run through a job, and how many snapshots reached this process."""
    job = engine.job(TrainTask(hp, store.unique_name(f"overhead-{hp.model}"), load_mnist, snapshots=snapshots),
                     store)
    job.start().wait()
    snapshot = job.snapshot()
    assert snapshot.record is not None, snapshot.error
    return snapshot.record.training_seconds, len(job.recording().snapshots)


class TimedRecorder(SnapshotRecorder):
    seconds = 0.0

    def take(self) -> None:
        started = time.perf_counter()
        super().take()
        self.seconds += time.perf_counter() - started


def share_in_snapshots(hp) -> tuple[float, float, int]:
    """Seconds of training in this process, of them taking snapshots, and how many were taken."""
    data = load_mnist()
    metrics = new_metrics(hp, training_count(data, hp.validation_split))
    recording = Recording()
    recorder = TimedRecorder(choose_probe(data.x_test, data.y_test), recording.receive, metrics.steps_per_epoch)
    outcome = train(hp, data, metrics, callbacks=[recorder])
    return outcome.seconds, recorder.seconds, len(recording.snapshots)


def share_on_ray(hp) -> tuple[float, float, int]:
    """share_in_snapshots, run where a Ray run trains: a task on the worker node, with its CPUs."""
    import ray

    def where_runs_train() -> tuple[float, float, int]:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(RAY_CPUS)  # as the engine's actors do
        tf.config.threading.set_inter_op_parallelism_threads(RAY_CPUS)
        return share_in_snapshots(hp)

    return ray.get(ray.remote(num_cpus=RAY_CPUS)(where_runs_train).remote())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["mlp", "cnn"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, help="instead of each kind's default")
    parser.add_argument("--engine", choices=("local", "ray"), default="local")
    parser.add_argument("--in-process-only", action="store_true",
                        help="only the share of training spent taking snapshots (one run per kind, no jobs)")
    args = parser.parse_args()
    if args.engine == "ray":
        from digits.background.engine_ray import RayEngine
        from tests.ray_cluster import LocalRayCluster

        cluster = LocalRayCluster()
        try:
            cluster.start_head()
            cluster.start_worker(cpus=RAY_CPUS)
            measure(args, RayEngine(cluster.address, cpus_per_run=RAY_CPUS), share_on_ray)
        finally:
            cluster.stop()
    else:
        measure(args, LocalEngine(max_running=1), share_in_snapshots)


def measure(args: argparse.Namespace, engine: Engine, share: Callable[..., tuple[float, float, int]]) -> None:
    import tempfile

    store = ModelStore(tempfile.mkdtemp(prefix="snapshot-overhead-"), builtin=None)
    print(f"engine: {engine.name}")
    print(f"{'kind':<5} {'without (s)':>12} {'with (s)':>10} {'ratio':>7} {'snapshots':>9}   where runs train: "
          f"training s, of it snapshots s (share)")
    for kind in args.kinds:
        hp = default_hyperparameters(kind, **({"epochs": args.epochs} if args.epochs else {}))
        without, with_ = [], []
        count = 0
        for repeat in range(0 if args.in_process_only else args.repeats):
            order = (False, True) if repeat % 2 == 0 else (True, False)
            for snapshots in order:
                seconds, taken = job_seconds(engine, hp, snapshots, store)
                (with_ if snapshots else without).append(seconds)
                count = max(count, taken)
        training, in_snapshots, taken = share(hp)
        if args.in_process_only:
            print(f"{kind:<5} {'-':>12} {'-':>10} {'-':>7} {'-':>9}   {training:.1f} s, {in_snapshots:.2f} s "
                  f"({in_snapshots / training:.1%}) in {taken}", flush=True)
            continue
        ratio = statistics.median(with_) / statistics.median(without)
        print(f"{kind:<5} {statistics.median(without):>12.1f} {statistics.median(with_):>10.1f} {ratio:>7.3f} "
              f"{count:>9}   {training:.1f} s, {in_snapshots:.2f} s ({in_snapshots / training:.1%}) in {taken}",
              flush=True)
        print(f"      each run, without: {', '.join(f'{s:.1f}' for s in without)}; with: "
              f"{', '.join(f'{s:.1f}' for s in with_)}", flush=True)


if __name__ == "__main__":
    main()
