"""The Ray engine against a real local cluster (tests/ray_cluster.py): never a mock. Skipped without Ray."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, load_sample
from digits import snapshots
from digits.background.jobs import LOST_MACHINE, Job, JobRegistry, JobStatus, Snapshot
from digits.background.journal import JOURNAL_DIR
from digits.background.tasks import TrainTask
from digits.models import default_hyperparameters
from digits.snapshots import first_epoch_steps
from digits.store import ModelStore

pytest.importorskip("ray")
if shutil.which("ray") is None:
    pytest.skip("the ray command is not installed", allow_module_level=True)

from ray_cluster import LocalRayCluster

from digits.background.engine_ray import RayEngine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRayCluster]:
    cluster = LocalRayCluster()
    try:
        cluster.start_head()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def worker(cluster: LocalRayCluster) -> str:
    """The worker node's id, starting one if a test before killed it."""
    return cluster.node_ids.get("worker") or cluster.start_worker()


def mlp_task(name: str, epochs: int) -> TrainTask:
    return TrainTask(default_hyperparameters("mlp", epochs=epochs, batch_size=50), name, load_sample)


def wait_for(job: Job, predicate: Callable[[Snapshot], bool], timeout: float = 120) -> Snapshot:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = job.snapshot()
        if predicate(snapshot):
            return snapshot
        time.sleep(0.1)
    raise AssertionError(f"still {job.snapshot().status} after {timeout} s")


def test_a_run_trains_on_the_worker_reports_live_and_is_saved_here(cluster: LocalRayCluster, worker: str) -> None:
    store = ModelStore()
    job = RayEngine(cluster.address).job(mlp_task("on-ray", epochs=3), store).start()
    live = wait_for(job, lambda snapshot: snapshot.metrics is not None and snapshot.metrics.examples_seen > 0)
    assert live.status in (JobStatus.TRAINING, JobStatus.SAVING, JobStatus.FINISHED)
    assert job.wait(120)
    snapshot = job.snapshot()
    assert snapshot.status == JobStatus.FINISHED, snapshot.error
    assert snapshot.metrics is not None and len(snapshot.metrics.epoch_loss) == 3
    assert snapshot.record is not None
    assert snapshot.record.engine == {"name": "ray", "address": cluster.address, "node_id": worker, "nodes": [worker]}
    saved = store.record("on-ray")  # in this process's store: the model came back as bytes
    assert saved.engine["node_id"] == worker and saved.test == snapshot.record.test
    assert store.load("on-ray").predict(load_sample().x_test[:2] / 255.0, verbose=0).shape == (2, 10)
    # The snapshots of its network came from the worker as the live figures did, and were saved with it here.
    steps = 18  # 900 training digits in batches of 50
    assert [taken.step for taken in job.recording().snapshots] == [0, *first_epoch_steps(steps), steps, 2 * steps,
                                                                   3 * steps]
    assert len(snapshots.load(store.folder("on-ray"), "on-ray").snapshots) == len(job.recording().snapshots)


def test_stop_ends_a_ray_run_after_the_current_batch_and_keeps_the_model(cluster: LocalRayCluster,
                                                                          worker: str) -> None:
    store = ModelStore()
    job = RayEngine(cluster.address).job(mlp_task("stopped-on-ray", epochs=100), store).start()
    wait_for(job, lambda snapshot: snapshot.metrics is not None and snapshot.metrics.examples_seen > 0)
    job.stop()
    assert job.wait(60)
    snapshot = job.snapshot()
    assert snapshot.status == JobStatus.STOPPED, snapshot.error
    assert snapshot.metrics is not None and snapshot.metrics.epoch < 100
    assert store.record("stopped-on-ray").status == "stopped"


def test_cli_trains_through_ray_when_the_address_is_set(cluster: LocalRayCluster, worker: str,
                                                        sample_data_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "DIGITS_RAY_ADDRESS": cluster.address, "DIGITS_DATA_DIR": str(sample_data_dir),
           "DIGITS_MODELS_DIR": str(tmp_path / "cli-models")}
    done = subprocess.run([sys.executable, "-m", "digits", "train", "--model", "mlp", "--epochs", "1", "--json"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["engine"] == {"name": "ray", "address": cluster.address, "node_id": worker, "nodes": [worker]}
    assert record["test"]["count"] == 500


def test_a_run_whose_worker_dies_carries_on_on_another(cluster: LocalRayCluster, worker: str) -> None:
    second = cluster.start_worker(cpus=1, role="second worker")
    store = ModelStore()
    registry = JobRegistry(RayEngine(cluster.address))
    # Small batches: each epoch lasts a second or two, long enough to lose the worker in.
    job = registry.submit("alice", TrainTask(default_hyperparameters("mlp", epochs=4, batch_size=4), "moved",
                                             load_sample), store)
    deadline = time.monotonic() + 120
    while not (store.root / JOURNAL_DIR / job.job_id / "checkpoint-00001.pickle").is_file():
        assert time.monotonic() < deadline and not job.snapshot().done, "the run never finished an epoch"
        time.sleep(0.02)
    first = job.snapshot().engine["node_id"]
    cluster.kill("worker" if first == worker else "second worker")  # the machine training the run
    assert job.wait(180), "the run neither carried on nor ended"
    snapshot = job.snapshot()
    assert snapshot.status == JobStatus.FINISHED, snapshot.error
    record = store.record("moved")
    assert record.engine["nodes"] == [first, second if first == worker else worker]
    assert len(record.history["loss"]) == 4
    assert [moment["why"] for moment in record.carried_on] == [LOST_MACHINE]
    assert 1 <= record.carried_on[0]["from_epoch"] < 4
    cluster.kill("worker")
    cluster.kill("second worker")


def test_a_lost_worker_fails_the_run_plainly_and_loses_no_saved_run(cluster: LocalRayCluster, worker: str) -> None:
    store = ModelStore()
    registry = JobRegistry(RayEngine(cluster.address))
    earlier = registry.submit("alice", mlp_task("earlier", epochs=1), store)
    assert earlier.wait(120) and earlier.snapshot().status == JobStatus.FINISHED
    doomed = registry.submit("alice", mlp_task("doomed", epochs=100), store)
    wait_for(doomed, lambda snapshot: snapshot.metrics is not None and snapshot.metrics.examples_seen > 0)
    cluster.kill("worker")
    assert doomed.wait(120), "a run on a lost machine must end, not hang"
    snapshot = doomed.snapshot()
    assert snapshot.status == JobStatus.FAILED and LOST_MACHINE in (snapshot.error or "").lower()
    assert [run.name for run in store.list() if run.name != "default"] == ["earlier"]
    assert store.load("earlier") is not None
    # The queue goes on: the same owner may start again, and it runs once a machine is back.
    cluster.start_worker()
    again = registry.submit("alice", mlp_task("again", epochs=1), store)
    assert again.wait(180) and again.snapshot().status == JobStatus.FINISHED, again.snapshot().error
