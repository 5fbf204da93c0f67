"""Cost of the live recorder and background job: the classic MLP trained through a LocalJob (a process of
its own at lower priority, per-batch recording sent over a pipe, a UI thread reading snapshots once a
second) against plain ``model.fit`` in this process, alternating. Training seconds are compared like for
like; the job's whole time adds starting its process, loading MNIST there, testing and the record.
Also the memory of the training process.

    python benchmarks/train_overhead.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras

from digits.background.engine_local import LocalJob
from digits.background.tasks import TrainTask
from digits.data import load_mnist
from digits.models import build_model, default_hyperparameters
from digits.training import new_metrics, split_validation


def rss_mb(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:  # ended
        pass
    return 0.0


def plain_fit(hp, data) -> float:
    x_train, y_train, x_val, y_val = split_validation(data, hp.validation_split)
    model = build_model(hp, new_metrics(hp, len(y_train)).steps_per_epoch)
    started = time.perf_counter()
    model.fit(x_train, y_train, batch_size=hp.batch_size, epochs=hp.epochs, validation_data=(x_val, y_val),
              verbose=0)
    return time.perf_counter() - started


def through_job(hp, peak: list[float], whole: list[float]) -> float:
    started = time.perf_counter()
    job = LocalJob(TrainTask(hp, "overhead", load_mnist)).start()
    while not job.wait(1.0):  # what the Train page's live view does
        job.snapshot()
        if job.pid is not None:
            peak.append(rss_mb(job.pid))
    whole.append(time.perf_counter() - started)
    record = job.snapshot().record
    assert record is not None, job.snapshot().error
    return record.training_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = load_mnist()
    hp = default_hyperparameters("mlp", epochs=3, batch_size=128)
    keras.utils.set_random_seed(0)
    plain_fit(hp, data)  # warm up TensorFlow once so neither side pays for it
    plain, job, peak, whole = [], [], [0.0], []
    for _ in range(args.repeats):
        plain.append(plain_fit(hp, data))
        job.append(through_job(hp, peak, whole))
    print(f"classic MLP, {hp.epochs} epochs, batch {hp.batch_size}, {args.repeats} runs each, alternating")
    for label, seconds in (("plain model.fit", plain), ("LocalJob with live recorder", job)):
        print(f"{label:<32} median {statistics.median(seconds):6.2f} s  runs {[round(s, 2) for s in seconds]}")
    print(f"ratio job / plain: {statistics.median(job) / statistics.median(plain):.3f}")
    print(f"the job from start to saved record: median {statistics.median(whole):.2f} s")
    print(f"training process RSS: peak {max(peak):.0f} MB (this process, with the plain fits: {rss_mb():.0f} MB)")


if __name__ == "__main__":
    main()
