"""Cost of the snapshots of the network (digits.snapshot_recorder): the same run trained through a LocalJob
(a process of its own, as the app and the CLI train) with snapshots and without, alternating, for the MLP and
the CNN at their default settings; training seconds compared like for like (each run's own record). Also,
in this process, the seconds spent taking snapshots as a share of training.

    PYTHONPATH=. python benchmarks/snapshot_overhead.py [--kinds mlp cnn] [--repeats 2] [--epochs N] [--in-process-only]
"""

from __future__ import annotations

import argparse
import statistics
import time

from digits.background.engine_local import LocalJob
from digits.background.tasks import TrainTask
from digits.data import load_mnist
from digits.models import default_hyperparameters
from digits.snapshot_recorder import SnapshotRecorder
from digits.snapshots import Recording, choose_probe
from digits.store import ModelStore
from digits.training import new_metrics, train, training_count


def job_seconds(hp, snapshots: bool, store: ModelStore) -> tuple[float, int]:
    """Training seconds of one run through a job, and how many snapshots reached this process."""
    job = LocalJob(TrainTask(hp, store.unique_name(f"overhead-{hp.model}"), load_mnist, snapshots=snapshots), store)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["mlp", "cnn"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, help="instead of each kind's default")
    parser.add_argument("--in-process-only", action="store_true",
                        help="only the share of training spent taking snapshots (one run per kind, no jobs)")
    args = parser.parse_args()
    import tempfile

    store = ModelStore(tempfile.mkdtemp(prefix="snapshot-overhead-"), builtin=None)
    print(f"{'kind':<5} {'without (s)':>12} {'with (s)':>10} {'ratio':>7} {'snapshots':>9}   in-process: "
          f"training s, of it snapshots s (share)")
    for kind in args.kinds:
        hp = default_hyperparameters(kind, **({"epochs": args.epochs} if args.epochs else {}))
        without, with_ = [], []
        count = 0
        for repeat in range(0 if args.in_process_only else args.repeats):
            order = (False, True) if repeat % 2 == 0 else (True, False)
            for snapshots in order:
                seconds, taken = job_seconds(hp, snapshots, store)
                (with_ if snapshots else without).append(seconds)
                count = max(count, taken)
        training, in_snapshots, taken = share_in_snapshots(hp)
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
