"""Runs survive their server: killed (SIGKILL, as a power cut would), the server started again carries each run on
from its last finished epoch; a lost training process carries on at once; what cannot carry on is kept."""

from __future__ import annotations

import functools
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import PROJECT_ROOT, TESTS_DIR, load_sample
from digits.background.engine_local import LocalEngine
from digits.background.jobs import Job, JobRegistry, Task
from digits.background.journal import JOURNAL_DIR, RunJournal, interrupted_runs
from digits.background.tasks import TrainTask
from digits.checkpoints import Checkpoint, TrainingState, capture, restore
from digits.data import Mnist, load_npz
from digits.models import build_model, default_hyperparameters
from digits.snapshots import Recording
from digits.store import ModelStore
from digits.teach import Drawings, TeachSettings, teach_task
from digits.training import new_metrics, train

# Four epochs of small batches: each epoch lasts a second or two, long enough to be killed in.
HP = default_hyperparameters("mlp", epochs=4, batch_size=4)
FIRST_CHECKPOINT = "checkpoint-00001.pickle"
WAIT_SECONDS = 180


def test_a_state_put_back_trains_on_exactly_as_before(sample: Mnist) -> None:
    x, y = sample.x_train[:256] / 255.0, sample.y_train[:256]
    hp = default_hyperparameters("mlp", epochs=2)
    straight = build_model(hp, 4)
    straight.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    state = capture(straight, 1)
    straight.fit(x, y, batch_size=64, epochs=2, initial_epoch=1, shuffle=False, verbose=0)
    carried_on = build_model(hp, 4)
    restore(carried_on, state)
    assert int(carried_on.optimizer.iterations.numpy()) == 4  # Adam's step count came back with its moments
    carried_on.fit(x, y, batch_size=64, epochs=2, initial_epoch=1, shuffle=False, verbose=0)
    for expected, got in zip(straight.get_weights(), carried_on.get_weights(), strict=True):
        np.testing.assert_array_equal(expected, got)


def test_a_state_that_does_not_fit_is_refused(sample: Mnist) -> None:
    mlp = build_model(default_hyperparameters("mlp"), 4)
    with pytest.raises(ValueError):
        restore(mlp, TrainingState(1, build_model(default_hyperparameters("cnn"), 4).get_weights(), []))


def wait_for_file(path: Path, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not path.is_file():
        assert process is None or process.poll() is None, "the server ended before the run finished an epoch"
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def kill_server_after(epochs: int, task: Task, models: Path, scratch: Path) -> str:
    """Start the app's engine in a server process of its own running ``task``; SIGKILL it and its training process
    once the run has finished ``epochs`` epochs; the job's id."""
    task_file = scratch / "task.pickle"
    task_file.write_bytes(pickle.dumps(task))
    server = subprocess.Popen([sys.executable, str(TESTS_DIR / "app_engine_server.py"), str(task_file), str(models)],
                              cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    job_id = server.stdout.readline().strip()
    assert job_id, "the server never started the run"
    wait_for_file(models / JOURNAL_DIR / job_id / f"checkpoint-{epochs:05d}.pickle", server)
    os.killpg(server.pid, signal.SIGKILL)  # the server and the training process it started: a power cut
    server.wait(30)
    assert not (models / task.name).exists(), "the run was saved before the server was killed"
    return job_id


def carry_on(models: Path) -> Job:
    """A server started again: its registry carries on the one run the journal holds."""
    store = ModelStore(models, builtin=None)
    jobs = JobRegistry(LocalEngine()).resume_interrupted(store)
    assert [job.job_id for job in jobs] and len(jobs) == 1
    assert jobs[0].wait(WAIT_SECONDS)
    return jobs[0]


@pytest.mark.slow
def test_a_run_carries_on_after_its_server_is_killed(sample: Mnist, tmp_path: Path) -> None:
    models = tmp_path / "models"
    job_id = kill_server_after(1, TrainTask(HP, "survivor", load_sample), models, tmp_path)
    job = carry_on(models)
    snapshot = job.snapshot()
    assert job.job_id == job_id and snapshot.status == "finished", snapshot.error
    record = ModelStore(models, builtin=None).record("survivor")
    # Stitched: every epoch once, in order, the figures before the kill kept.
    assert len(record.history["accuracy"]) == 4 and len(record.history["val_accuracy"]) == 4
    assert snapshot.metrics is not None and snapshot.metrics.epoch == 4
    steps = snapshot.metrics.batch_step
    assert len(steps) == 4 * snapshot.metrics.steps_per_epoch and steps == sorted(steps)
    assert [moment["why"] for moment in record.carried_on] == ["the server started again"]
    assert 1 <= record.carried_on[0]["from_epoch"] < 4
    uninterrupted = train(HP, sample)
    expected = float(uninterrupted.model.evaluate(sample.x_test / 255.0, sample.y_test, verbose=0)[1])
    assert abs(record.test_accuracy - expected) < 0.05
    assert not (models / JOURNAL_DIR / job_id).exists(), "the journal outlived the run"
    # Its snapshots go on from where they were: one at the start, none taken twice.
    recording = job.recording()
    assert [snap.step for snap in recording.snapshots] == sorted({snap.step for snap in recording.snapshots})
    assert recording.snapshots[-1].epoch == 4


@pytest.mark.slow
def test_stop_ends_a_run_that_carried_on_and_keeps_its_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    kill_server_after(1, TrainTask(default_hyperparameters("mlp", epochs=30, batch_size=4), "halted",
                                            load_sample), models, tmp_path)
    [job] = JobRegistry(LocalEngine()).resume_interrupted(ModelStore(models, builtin=None))
    deadline = time.monotonic() + WAIT_SECONDS
    while (snapshot := job.snapshot()).status != "training" or snapshot.metrics.examples_seen == 0:
        assert time.monotonic() < deadline and not snapshot.done, snapshot.status
        time.sleep(0.05)
    job.stop()
    assert job.wait(WAIT_SECONDS)
    record = ModelStore(models, builtin=None).record("halted")
    assert record.status == "stopped" and 1 <= len(record.history["loss"]) < 30
    assert record.carried_on[0]["why"] == "the server started again"


@pytest.mark.slow
def test_a_teaching_carries_on_after_its_server_is_killed(sample: Mnist, trained_mlp: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(trained_mlp, models / "mlp")
    store = ModelStore(models, builtin=None)
    rows = np.flatnonzero(sample.y_test < 10)[:30]
    drawings = Drawings(sample.x_test[rows][:, :, ::-1].copy(), sample.y_test[rows])
    task = teach_task(store, "mlp", drawings, load_sample, settings=TeachSettings(epochs=4, batch_size=8, copies=8,
                                                                                  styled_per_digit=0, learn="all"))
    kill_server_after(2, task, models, tmp_path)  # half way
    job = carry_on(models)
    assert job.snapshot().status == "finished", job.snapshot().error
    record = store.record(task.name)
    assert len(record.history["accuracy"]) == 4
    assert record.taught["from"] == "mlp" and record.carried_on[0]["why"] == "the server started again"
    assert 2 <= record.carried_on[0]["from_epoch"] < 4


@pytest.mark.slow
def test_a_run_whose_training_process_is_lost_carries_on_at_once(tmp_path: Path) -> None:
    models = tmp_path / "models"
    registry = JobRegistry(LocalEngine())
    job = registry.submit("someone", TrainTask(HP, "lost-once", load_sample), ModelStore(models, builtin=None))
    wait_for_file(models / JOURNAL_DIR / job.job_id / FIRST_CHECKPOINT)
    pid = job.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # the training process alone, as the kernel's out-of-memory killer would
    assert job.wait(WAIT_SECONDS)
    snapshot = job.snapshot()
    assert snapshot.status == "finished", snapshot.error
    assert snapshot.record is not None and len(snapshot.record.history["loss"]) == 4
    assert [moment["why"] for moment in snapshot.record.carried_on] == ["the machine training it was lost"]


@pytest.mark.slow
def test_a_run_whose_data_changed_is_kept_as_interrupted(sample: Mnist, tmp_path: Path) -> None:
    models, data = tmp_path / "models", tmp_path / "mnist.npz"
    shutil.copy(TESTS_DIR / "data" / "mnist_sample.npz", data)
    job_id = kill_server_after(1, TrainTask(HP, "moved-on", functools.partial(load_npz, data)), models,
                                           tmp_path)
    np.savez(data, x_train=sample.x_train[::-1], y_train=sample.y_train[::-1], x_test=sample.x_test,
             y_test=sample.y_test)  # the same digits in another order: another fingerprint
    job = carry_on(models)
    snapshot = job.snapshot()
    assert job.job_id == job_id and snapshot.status == "interrupted", snapshot.error
    record = ModelStore(models, builtin=None).record("moved-on")
    finished = record.carried_on[0]["from_epoch"]
    assert record.status == "interrupted" and len(record.history["accuracy"]) == finished >= 1
    assert record.test["count"] == 500 and record.test_accuracy > 0.5  # its model as of its last finished epoch
    ModelStore(models, builtin=None).load("moved-on")


def test_a_run_cancelled_while_it_waited_leaves_nothing_to_carry_on(tmp_path: Path) -> None:
    models = tmp_path / "models"
    store = ModelStore(models, builtin=None)
    registry = JobRegistry(LocalEngine(max_running=1))
    first = registry.submit("one person", TrainTask(default_hyperparameters("mlp", epochs=30), "first", load_sample),
                            store)
    waiting = registry.submit("another", TrainTask(HP, "waiting", load_sample), store)
    assert waiting.snapshot().status == "waiting" and (models / JOURNAL_DIR / waiting.job_id).is_dir()
    waiting.stop()
    first.stop()
    assert waiting.wait(WAIT_SECONDS) and first.wait(WAIT_SECONDS)
    assert waiting.snapshot().status == "cancelled"
    assert list((models / JOURNAL_DIR).iterdir()) == []


def checkpoint(epoch: int) -> Checkpoint:
    metrics = new_metrics(default_hyperparameters("mlp", epochs=3), 100)
    metrics.epoch = epoch
    return Checkpoint(TrainingState(epoch, [np.full(3, epoch, np.float32)], []), "data", metrics, Recording())


def test_a_damaged_checkpoint_falls_back_to_the_one_before_and_a_damaged_journal_is_set_aside(tmp_path: Path) -> None:
    task = TrainTask(HP, "run", load_sample)
    journal = RunJournal.begin(tmp_path / JOURNAL_DIR / "run-1", task, "someone", 1.0)
    for epoch in (1, 2, 3):
        journal.write(checkpoint(epoch))
    journal.release()
    folder = tmp_path / JOURNAL_DIR / "run-1"
    assert sorted(path.name for path in folder.glob("checkpoint-*")) == ["checkpoint-00002.pickle",
                                                                         "checkpoint-00003.pickle"]
    (folder / "checkpoint-00003.pickle").write_bytes(b"half a file")
    broken = RunJournal.begin(tmp_path / JOURNAL_DIR / "run-2", task, "someone", 2.0)
    broken.release()
    (tmp_path / JOURNAL_DIR / "run-2" / "task.pickle").write_bytes(b"not a task")
    runs = interrupted_runs(tmp_path)
    assert [run.job_id for run in runs] == ["run-1"]
    assert runs[0].checkpoint is not None and runs[0].checkpoint.state.epoch == 2 and runs[0].owner == "someone"
    assert (runs[0].task.name, runs[0].task.hp) == (task.name, task.hp)
    assert (tmp_path / JOURNAL_DIR / "damaged-run-2").is_dir()


def test_a_run_a_live_server_holds_is_not_carried_on_twice(tmp_path: Path) -> None:
    held = RunJournal.begin(tmp_path / JOURNAL_DIR / "run-1", TrainTask(HP, "run", load_sample), "someone", 1.0)
    assert interrupted_runs(tmp_path) == []  # another server (here: this one) is training it
    held.release()
    runs = interrupted_runs(tmp_path)
    assert [run.job_id for run in runs] == ["run-1"] and runs[0].checkpoint is None
