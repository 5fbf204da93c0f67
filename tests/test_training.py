from __future__ import annotations

import functools
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import load_sample, tiny_split
from digits.background.engine_local import LocalEngine, LocalJob
from digits.background.jobs import AlreadyTraining, JobRegistry, JobStatus
from digits.background.tasks import TrainTask
from digits.data import Mnist, load_npz
from digits.models import build_model, default_hyperparameters
from digits.store import ModelStore
from digits.training import Metrics, diverged, make_recorder, new_metrics, train


def test_one_epoch_lowers_the_loss_and_records_every_batch(sample: Mnist) -> None:
    hp = default_hyperparameters("mlp", epochs=2, batch_size=50)
    # 900 training digits after the 10% validation hold-out: 18 batches of 50 per epoch.
    metrics = new_metrics(hp, 900)
    assert train(hp, sample, metrics).status == "finished"
    assert len(metrics.batch_loss) == 36 and metrics.epoch == 2
    assert metrics.epoch_loss[1] < metrics.epoch_loss[0]
    assert metrics.batch_step[-1] == pytest.approx(2.0)
    assert metrics.examples_seen == 1800 and metrics.progress == 1.0
    # The per-batch losses are each batch's own: their size-weighted mean is the epoch's loss.
    assert np.mean(metrics.batch_loss[:18]) == pytest.approx(metrics.epoch_loss[0], rel=1e-4)
    assert len(metrics.val_accuracy) == 2 and metrics.val_accuracy[1] > 0.5


def test_uneven_last_batch_is_weighted_right(sample: Mnist) -> None:
    hp = default_hyperparameters("mlp", epochs=1, batch_size=64)  # 900 = 14 x 64 + 4
    metrics = new_metrics(hp, 900)
    train(hp, sample, metrics)
    weights = [64] * 14 + [4]
    assert len(metrics.batch_loss) == 15
    assert np.average(metrics.batch_loss, weights=weights) == pytest.approx(metrics.epoch_loss[0], rel=1e-4)


def test_stop_ends_after_the_current_batch_and_keeps_the_model(sample: Mnist) -> None:
    hp = default_hyperparameters("mlp", epochs=5, batch_size=50)
    stop = threading.Event()
    stop.set()
    metrics = new_metrics(hp, 900)
    outcome = train(hp, sample, metrics, stop_event=stop)
    assert outcome.status == "stopped"
    assert len(metrics.batch_loss) == 1
    assert outcome.model.predict(sample.x_test[:2] / 255.0, verbose=0).shape == (2, 10)


@pytest.mark.parametrize("bad_loss", [float("nan"), float("inf")])
def test_nan_or_infinite_loss_stops_training_as_diverged(bad_loss: float) -> None:
    # Keras clips probabilities in its loss, so a real run rarely reaches NaN on demand; drive the
    # callbacks train() uses (the recorder, then TerminateOnNaN) with the logs Keras would hand them.
    import keras

    hp = default_hyperparameters("mlp", epochs=3, batch_size=50)
    metrics = new_metrics(hp, 900)
    model = build_model(hp, metrics.steps_per_epoch)
    callbacks = keras.callbacks.CallbackList(
        [make_recorder(metrics, threading.Lock(), threading.Event(), hp.batch_size),
         keras.callbacks.TerminateOnNaN()], model=model)
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(0)
    callbacks.on_train_batch_end(0, {"loss": 2.3, "accuracy": 0.1})
    assert not diverged(metrics) and not model.stop_training
    callbacks.on_train_batch_end(1, {"loss": bad_loss, "accuracy": 0.1})
    assert diverged(metrics) and model.stop_training


def test_same_seed_same_run(sample: Mnist) -> None:
    hp = default_hyperparameters("mlp", epochs=1, batch_size=100, seed=7)
    first, second = new_metrics(hp, 900), new_metrics(hp, 900)
    train(hp, tiny_split(sample, 1000), first)
    train(hp, tiny_split(sample, 1000), second)
    assert first.batch_loss == pytest.approx(second.batch_loss, rel=1e-5)


def test_augmented_training_runs(sample: Mnist) -> None:
    outcome = train(default_hyperparameters("cnn", epochs=1, batch_size=100, augment=True), tiny_split(sample, 300))
    assert outcome.status == "finished"


def test_job_trains_tests_and_saves(sample: Mnist, isolated_store) -> None:
    store = ModelStore()
    job = LocalJob(TrainTask(default_hyperparameters("mlp", epochs=2, batch_size=100), "job-run", load_sample), store)
    assert job.snapshot().status == "waiting"
    job.start()
    assert job.wait(120)
    snapshot = job.snapshot()
    assert snapshot.status == "finished", snapshot.error
    assert snapshot.record is not None and snapshot.record.test["count"] == 500
    assert snapshot.metrics is not None and len(snapshot.metrics.epoch_loss) == 2
    assert store.record("job-run").test == snapshot.record.test
    assert snapshot.record.engine["name"] == "local" and snapshot.status is JobStatus.FINISHED


def test_job_reports_errors_instead_of_losing_them(tmp_path: Path) -> None:
    task = TrainTask(default_hyperparameters("mlp"), "x", functools.partial(load_npz, tmp_path / "gone.npz"))
    job = LocalJob(task).start()
    assert job.wait(60)
    snapshot = job.snapshot()
    assert snapshot.status == "failed" and snapshot.done
    assert "gone.npz" in (snapshot.error or "")


def test_job_trains_in_a_process_of_its_own_at_lower_priority() -> None:
    job = LocalJob(TrainTask(default_hyperparameters("mlp", epochs=30), "background", load_sample)).start()
    try:
        deadline = time.monotonic() + 60
        while job.snapshot().status != "training" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job.snapshot().status == "training" and job.pid is not None and job.pid != os.getpid()
        assert os.getpriority(os.PRIO_PROCESS, job.pid) > os.getpriority(os.PRIO_PROCESS, 0)
        while job.snapshot().metrics.examples_seen == 0 and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.1)
        assert job.snapshot().metrics.examples_seen > 0  # type: ignore[union-attr]  # figures cross over
    finally:
        job.stop()
    assert job.wait(60) and job.snapshot().status == "stopped" and job.pid is None


def test_job_waiting_for_a_slot_can_be_cancelled(sample: Mnist) -> None:
    slots = threading.BoundedSemaphore(1)
    slots.acquire()  # someone else is training
    job = LocalJob(TrainTask(default_hyperparameters("mlp"), "queued", load_sample), slots=slots).start()
    assert not job.wait(0.5)
    assert job.snapshot().status == "waiting"
    job.stop()
    assert job.wait(5)
    assert job.snapshot().status == "cancelled"
    slots.release()
    assert slots.acquire(blocking=False)  # the cancelled job did not keep a slot


def test_registry_refuses_a_second_run_per_session_and_caps_the_server(sample: Mnist) -> None:
    registry = JobRegistry(LocalEngine(max_running=1))

    def task(name: str, **settings: int) -> TrainTask:
        return TrainTask(default_hyperparameters("mlp", **settings), name, load_sample)

    first = registry.submit("alice", task("a", epochs=30), None)
    with pytest.raises(AlreadyTraining):
        registry.submit("alice", task("again"), None)
    second = registry.submit("bob", task("b", epochs=1), None)
    assert second.snapshot().status == "waiting"  # the one slot is alice's, taken when hers started
    assert registry.get(first.job_id) is first and registry.get("nope") is None
    first.stop()
    assert first.wait(60) and second.wait(120)
    assert first.snapshot().status == "stopped" and second.snapshot().status == "finished"
    # Once alice's run ended she may start another.
    third = registry.submit("alice", task("c", epochs=1), None)
    assert third.wait(120)


def test_the_epoch_under_way_and_the_recent_means_are_defined_once() -> None:
    metrics = Metrics(epochs=3, steps_per_epoch=20, total_examples=600)
    assert metrics.current_epoch == 1 and metrics.recent_mean(metrics.batch_loss) is None
    metrics.epoch, metrics.step = 1, 5  # 5 batches into the second epoch
    metrics.batch_loss = [float(value) for value in range(25)]
    assert metrics.current_epoch == 2
    assert metrics.recent_window == 2  # a tenth of an epoch
    assert metrics.recent_mean(metrics.batch_loss) == 23.5
    metrics.epoch, metrics.step = 3, 0  # all done
    assert metrics.current_epoch == 3
