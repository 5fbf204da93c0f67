"""Runs in the background: a job runs one *task* on an engine, and pages and the CLI watch it.

A task (see digits.background.tasks) is a small picklable object whose ``run(report, stop_event)`` does the work
wherever the engine puts it, reports what happens as typed messages, and returns a TaskResult holding
the model as the bytes of a .keras file. The job, in the app's own process, keeps the latest state for
``snapshot()`` and saves the model in the app's own store, so no engine needs a shared filesystem.

Engines: engine_local (a process of its own per run, the default) and engine_ray (a Ray cluster, chosen by
DIGITS_RAY_ADDRESS), beside this module in digits.background; engines picks one. This module imports neither.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from digits.background.journal import JOURNAL_DIR, RunJournal, interrupted_runs
from digits.checkpoints import Checkpoint, EpochFinished, Resume
from digits.models import Hyperparameters
from digits.snapshots import ProbeChosen, Recording, SnapshotTaken
from digits.store import StoreError
from digits.training import Metrics, MetricsUpdate

if TYPE_CHECKING:
    from pathlib import Path

    from digits.saved_probabilities import TestReading
    from digits.store import ModelStore, RunRecord

class JobStatus(StrEnum):
    """A job's life: waiting -> loading -> training -> (stopping) -> saving -> one of the final statuses.
    A StrEnum, so a status compares equal to its plain name ("training") and pickles as one."""

    WAITING = "waiting"
    LOADING = "loading"
    TRAINING = "training"
    STOPPING = "stopping"
    SAVING = "saving"
    FINISHED = "finished"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNSAVED = "unsaved"
    INTERRUPTED = "interrupted"

    @property
    def final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def text(self) -> str:
        return STATUS_TEXT[self]


FINAL_STATUSES = frozenset({JobStatus.FINISHED, JobStatus.STOPPED, JobStatus.DIVERGED, JobStatus.FAILED,
                            JobStatus.CANCELLED, JobStatus.UNSAVED, JobStatus.INTERRUPTED})

STATUS_TEXT = {
    JobStatus.WAITING: "Waiting for a free training slot",
    JobStatus.LOADING: "Starting up and loading the MNIST digits",
    JobStatus.TRAINING: "Training",
    JobStatus.STOPPING: "Stopping after the current batch",
    JobStatus.SAVING: "Testing and saving the model",
    JobStatus.FINISHED: "Finished",
    JobStatus.STOPPED: "Stopped early; the model trained so far was kept",
    JobStatus.DIVERGED: (
        "Training went wrong: the loss became infinite or not a number, so the model learned nothing "
        "useful. This usually means the learning rate is too high; try one ten times smaller."
    ),
    JobStatus.FAILED: "Training failed with an error",
    JobStatus.CANCELLED: "Cancelled before it started",
    JobStatus.UNSAVED: "Trained and tested, but the model could not be saved",
    JobStatus.INTERRUPTED: (
        "Interrupted: the server stopped while it trained, and it could not carry on because the MNIST data "
        "changed since. Its finished epochs and its model as of the last one were kept, tested on the data as "
        "they are now"
    ),
}

LOST_MACHINE = "the machine training it was lost"
SERVER_RESTARTED = "the server started again"
# A run whose process or machine is lost carries on from its last finished epoch this many times at most (a
# process that runs out of memory would be lost again and again).
MAX_CARRY_ONS = 3


# Messages from a running task to its job, in the order a task sends them.
@dataclass(frozen=True)
class Started:
    """The data are loaded and training begins: the empty Metrics it will fill."""

    metrics: Metrics


@dataclass(frozen=True)
class Progress:
    """What training recorded since the last Progress."""

    update: MetricsUpdate


@dataclass(frozen=True)
class Saving:
    """Training ended; testing and packing the model."""


# ProbeChosen and SnapshotTaken: see digits.snapshots; EpochFinished: digits.checkpoints.
TaskMessage = Started | Progress | Saving | ProbeChosen | SnapshotTaken | EpochFinished


@dataclass(frozen=True)
class StopRequest:
    """From the job to its running task: stop after the current batch."""


@dataclass(frozen=True)
class TaskResult:
    """What a task returns: its final status, the run record and model file when it produced a model
    (not yet saved: the job saves it), or the error that ended it; ``lost`` when its process or machine was lost,
    so that it may carry on elsewhere."""

    status: JobStatus
    record: RunRecord | None = None
    model_file: bytes | None = None
    error: str | None = None
    lost: bool = False
    test_reading: TestReading | None = None  # the model's probabilities on the test digits, saved beside it


def failure(error: BaseException) -> TaskResult:
    return TaskResult(JobStatus.FAILED, error=f"{type(error).__name__}: {error}")


class Task(Protocol):
    """Work an engine can run: a picklable frozen dataclass, with the settings a page shows while it runs,
    ``load_data``, which it calls for its data (an engine may swap in data it has already shipped), and
    ``resume``, the checkpoint to carry on from (digits.checkpoints), which it sends after each finished epoch."""

    name: str
    hp: Hyperparameters
    load_data: Callable[[], Any]
    resume: Resume | None

    def run(self, report: Callable[[TaskMessage], None], stop_event: threading.Event) -> TaskResult: ...


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of a job's state for display."""

    job_id: str
    name: str
    hp: Hyperparameters
    status: JobStatus
    metrics: Metrics | None
    error: str | None
    record: RunRecord | None
    created: float
    engine: dict[str, Any]
    carried_on: tuple[dict[str, Any], ...] = ()  # each time it carried on from a checkpoint: when, from, why

    @property
    def done(self) -> bool:
        return self.status.final

    @property
    def status_text(self) -> str:
        return self.status.text


class Job:
    """One task run by an engine, watched by a thread of this process. Engines subclass it and provide
    ``_execute`` (run the task elsewhere, pass each message it sends to ``_receive``, return its result)
    and ``_request_stop`` (tell the running task to stop).

    ``slots`` (a semaphore shared by the engine's jobs) caps how many run at once; a job waiting for one
    can be cancelled. ``stop()`` ends training after the current batch, and the model trained so far is
    still tested and saved. A model that cannot be saved stays in ``model_file`` for a download.

    After each finished epoch the job keeps a checkpoint, in its journal too when it has one
    (digits.background.journal). When the task's process or machine is lost the run carries on from it, on another
    machine when it was lost with its machine; a server started again carries on the runs its journal holds
    (JobRegistry).
    """

    def __init__(self, task: Task, store: ModelStore | None = None, slots: threading.Semaphore | None = None,
                 job_id: str = "") -> None:
        self.task = task
        self.name = task.name
        self.job_id = job_id or task.name
        self._store = store
        self._slots = slots
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._status = JobStatus.WAITING
        self._has_slot = False
        self._metrics: Metrics | None = None
        self._error: str | None = None
        self._record: RunRecord | None = None
        self._recording = Recording()  # snapshots of the network as it learns, saved with the run
        self._created = time.time()
        self._engine: dict[str, Any] = {"name": "local", "address": None, "node_id": None, "nodes": []}
        self._fresh_task = task  # as first given: carrying on gives it a resume
        self._checkpoint: Checkpoint | None = None
        self._journal: RunJournal | None = None
        self._carried_on: list[dict[str, Any]] = []
        self.model_file: bytes | None = None  # of a model that could not be saved, or when there is no store
        self._thread = threading.Thread(target=self._run, name=f"job-{self.job_id}", daemon=True)

    def start(self) -> Job:
        # Take a free slot at once, so a run that need not wait is never shown as waiting.
        self._has_slot = self._slots is None or self._slots.acquire(blocking=False)
        if self._has_slot:
            self._status = self.status_with_a_slot
        self._thread.start()
        return self

    def keep_journal(self, journal: RunJournal) -> None:
        """Write checkpoints to ``journal``, and close it once the run has ended (call before start)."""
        self._journal = journal

    def carry_on(self, checkpoint: Checkpoint | None, why: str, created: float | None = None) -> None:
        """Run the task again from ``checkpoint`` (None: from the start), its figures and snapshots as they were
        then; the record will say when and why. ``created``: when the run first started, for a run found in a
        journal (call before start, or from the job's own thread between two tries)."""
        task = dataclasses.replace(self._fresh_task, resume=Resume(checkpoint)) if checkpoint else self._fresh_task
        with self._lock:
            self.task = task
            self._checkpoint = checkpoint
            self._metrics = copy.deepcopy(checkpoint.metrics) if checkpoint else None
            self._recording = checkpoint.recording.copy() if checkpoint else Recording()
            self._created = created if created is not None else self._created
            self._carried_on.append({"at": datetime.now(UTC).isoformat(timespec="seconds"),
                                     "from_epoch": checkpoint.state.epoch if checkpoint else 0, "why": why})

    def stop(self) -> None:
        """Stop after the current batch (or cancel, if still waiting for a slot)."""
        self._stop_event.set()
        with self._lock:
            if self._status in (JobStatus.LOADING, JobStatus.TRAINING):
                self._status = JobStatus.STOPPING
            self._request_stop()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def snapshot(self, with_metrics: bool = True) -> Snapshot:
        """A copy of the job's state; ``with_metrics=False`` skips copying the recorded curves, for
        callers on a hot path that only need the status."""
        with self._lock:
            return Snapshot(
                job_id=self.job_id,
                name=self.name,
                hp=self.task.hp,
                status=self._status,
                metrics=copy.deepcopy(self._metrics) if with_metrics else None,
                error=self._error,
                record=self._record,
                created=self._created,
                engine=copy.deepcopy(self._engine),
                carried_on=tuple(self._carried_on),
            )

    def recording(self) -> Recording:
        """The snapshots of the network received so far (a copy later ones do not change)."""
        with self._lock:
            return self._recording.copy()

    @property
    def stop_requested(self) -> bool:
        return self._stop_event.is_set()

    # Once it has a slot a job is loading; a Ray job is still waiting until the cluster places it.
    status_with_a_slot = JobStatus.LOADING

    def _execute(self) -> TaskResult:
        raise NotImplementedError

    def _request_stop(self) -> None:
        """Called under the job's lock once stop() is asked for; the running task must hear of it."""

    def _set_status(self, status: JobStatus) -> None:
        with self._lock:
            self._status = JobStatus.STOPPING if self._stop_event.is_set() and not status.final else status

    def _set_engine(self, **engine: Any) -> None:
        """Note where the run is; each machine it runs on joins ``nodes``, in order."""
        with self._lock:
            self._engine.update(engine)
            nodes = self._engine["nodes"]
            if engine.get("node_id") and (not nodes or nodes[-1] != engine["node_id"]):
                nodes.append(engine["node_id"])

    def _may_carry_on(self) -> bool:
        """Whether a run whose task came back lost carries on (engines add their own conditions)."""
        return not self.stop_requested and len(self._carried_on) < MAX_CARRY_ONS

    def _acquire_slot(self) -> bool:
        if self._has_slot or self._slots is None:
            return True
        while not self._stop_event.is_set():
            if self._slots.acquire(timeout=0.2):
                return True
        return False

    def _run(self) -> None:
        if not self._acquire_slot():
            self._close_journal()
            self._set_status(JobStatus.CANCELLED)
            return
        self._set_status(self.status_with_a_slot)
        try:
            result = self._execute()
            while result.lost and self._may_carry_on():
                print(f"Run {self.job_id}: {result.error} Carrying on from its last finished epoch.", file=sys.stderr)
                self.carry_on(self._checkpoint, LOST_MACHINE)
                self._set_status(self.status_with_a_slot)
                result = self._execute()
            self._finish(result)
        except Exception as error:  # The thread is the last place that can catch it: show it, never lose it.
            traceback.print_exc()
            self._finish(failure(error))
        finally:
            if self._slots is not None:
                self._slots.release()

    def _receive(self, message: TaskMessage) -> None:
        """Take one message from the running task."""
        with self._lock:
            if isinstance(message, Started):
                self._metrics = message.metrics
                if self._status != JobStatus.STOPPING:
                    self._status = JobStatus.TRAINING
            elif isinstance(message, Progress) and self._metrics is not None:
                self._metrics.apply(message.update)
            elif isinstance(message, Saving):
                self._status = JobStatus.SAVING
            elif isinstance(message, ProbeChosen | SnapshotTaken):
                self._recording.receive(message)
            elif isinstance(message, EpochFinished) and self._metrics is not None:
                self._checkpoint = Checkpoint(message.state, message.data_fingerprint, copy.deepcopy(self._metrics),
                                              self._recording.copy())
        if isinstance(message, EpochFinished) and self._journal is not None and self._checkpoint is not None:
            self._journal.write(self._checkpoint)  # outside the lock: pages keep reading while it is written

    def _close_journal(self) -> None:
        """The run has ended, saved or not, or was cancelled: nothing to carry on after a restart."""
        if self._journal is not None:
            self._journal.close()

    def _write_extras(self, folder: Path, test_reading: TestReading | None) -> None:
        """Beside the model: its snapshots, its TensorBoard logs and its test reading (see digits.run_extras)."""
        from digits.run_extras import write_run_extras

        with self._lock:
            recording, metrics = self._recording.copy(), copy.deepcopy(self._metrics)
        write_run_extras(folder, recording, metrics, test_reading)

    def _finish(self, result: TaskResult) -> None:
        """Save what the task produced in this process's store, then show its final state."""
        status, record, error, model_file = result.status, result.record, result.error, result.model_file
        if record is not None:
            where = self.snapshot(with_metrics=False)
            record = dataclasses.replace(record, engine=where.engine, carried_on=list(where.carried_on))
        if record is not None and model_file is not None and self._store is not None:
            try:
                record, model_file = self._store.save_file(
                    model_file, record, lambda folder: self._write_extras(folder, result.test_reading)), None
            except StoreError as save_error:  # e.g. a full disk: keep the model so it can still be downloaded
                status, error = JobStatus.UNSAVED, str(save_error)
        self.model_file = model_file
        self._close_journal()
        with self._lock:
            self._status, self._record, self._error = status, record, error


class Engine(Protocol):
    """Where jobs run: ``job(task, store, job_id)`` makes a job (not yet started)."""

    name: str

    @property
    def max_running(self) -> int: ...

    def job(self, task: Task, store: ModelStore | None, job_id: str = "") -> Job: ...


class EngineUnavailable(Exception):
    """The engine asked for cannot run here (e.g. Ray is not installed); the message says how to fix it."""


class AlreadyTraining(Exception):
    """This session already has a run in progress; one at a time (or one race at a time)."""


class JobRegistry:
    """All jobs of one server, each owned by one browser session, run by one engine.

    Past the engine's capacity jobs wait (status "waiting") and can be cancelled. Finished jobs are
    kept so a refreshed page can still show their curves.
    """

    def __init__(self, engine: Engine, keep_finished: int = 50) -> None:
        self.engine = engine
        self._jobs: dict[str, Job] = {}
        self._owners: dict[str, str] = {}
        self._keep_finished = keep_finished
        self._lock = threading.Lock()

    @property
    def max_running(self) -> int:
        return self.engine.max_running

    def submit(self, owner: str, task: Task, store: ModelStore | None) -> Job:
        """Start a job for ``owner``; AlreadyTraining if that owner has one that has not ended."""
        return self.submit_all(owner, [task], store)[0]

    def submit_all(self, owner: str, tasks: Sequence[Task], store: ModelStore | None) -> list[Job]:
        """Start jobs for ``owner`` all together (a race of settings): they queue past the engine's capacity.
        AlreadyTraining if that owner has a job that has not ended."""
        with self._lock:
            for job_id, job_owner in self._owners.items():
                if job_owner == owner and not self._jobs[job_id].snapshot(with_metrics=False).done:
                    raise AlreadyTraining(
                        f"A training run ({self._jobs[job_id].name}) is still going; stop it or wait for it to end."
                    )
            jobs = [self.engine.job(task, store, job_id=f"{task.name}-{uuid.uuid4().hex[:8]}") for task in tasks]
            for job in jobs:
                self._register(job, owner)
            self._forget_old_jobs()
        for job in jobs if store is not None else ():
            try:
                job.keep_journal(RunJournal.begin(store.root / JOURNAL_DIR / job.job_id, job.task, owner, time.time()))
            except OSError as error:  # the run still trains; it cannot carry on after a restart
                print(f"Run {job.job_id} will not carry on after a restart: its journal cannot be written ({error}).",
                      file=sys.stderr)
        return [job.start() for job in jobs]

    def resume_interrupted(self, store: ModelStore) -> list[Job]:
        """Carry on the runs ``store``'s journal holds that no live server is training (a server that was
        training them was lost), each from its last finished epoch, under its own id and owner, so a page
        that had it in its address finds it again."""
        jobs = []
        for run in interrupted_runs(store.root):
            job = self.engine.job(run.task, store, job_id=run.job_id)
            job.keep_journal(run.journal)
            job.carry_on(run.checkpoint, SERVER_RESTARTED, created=run.created)
            with self._lock:
                self._register(job, run.owner)
            jobs.append(job.start())
        return jobs

    def _register(self, job: Job, owner: str) -> None:
        """Keep ``job`` as ``owner``'s (call under the registry's lock)."""
        self._jobs[job.job_id] = job
        self._owners[job.job_id] = owner

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _forget_old_jobs(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.snapshot(with_metrics=False).done]
        for job_id in finished[: max(len(finished) - self._keep_finished, 0)]:
            del self._jobs[job_id]
            del self._owners[job_id]
