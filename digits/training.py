"""Train a model with live metrics and a stop switch, in the caller's thread or as a job in a process of its own.

The worker never touches any UI: pages and the CLI read ``TrainingJob.snapshot()``, a copy
taken under the job's lock, as often as they like.
"""

from __future__ import annotations

import contextlib
import copy
import math
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from digits.data import Mnist, normalise
from digits.models import Hyperparameters, build_model

if TYPE_CHECKING:
    import keras

    from digits.store import ModelStore, RunRecord

# A job's life: waiting -> loading -> training -> (stopping) -> saving -> one of the final statuses.
FINAL_STATUSES = ("finished", "stopped", "diverged", "failed", "cancelled", "unsaved")

STATUS_TEXT = {
    "waiting": "Waiting for a free training slot",
    "loading": "Starting up and loading the MNIST digits",
    "training": "Training",
    "stopping": "Stopping after the current batch",
    "saving": "Testing and saving the model",
    "finished": "Finished",
    "stopped": "Stopped early; the model trained so far was kept",
    "diverged": (
        "Training went wrong: the loss became infinite or not a number, so the model learned nothing "
        "useful. This usually means the learning rate is too high; try one ten times smaller."
    ),
    "failed": "Training failed with an error",
    "cancelled": "Cancelled before it started",
    "unsaved": "Trained and tested, but the model could not be saved",
}


@dataclass
class Metrics:
    """What a run has recorded so far. Per-batch figures are each batch's own loss and accuracy,
    recovered from Keras's running means (Keras hands callbacks the mean since the epoch began)."""

    epochs: int
    steps_per_epoch: int
    total_examples: int
    epoch: int = 0  # epochs completed
    step: int = 0  # batches completed in the current epoch
    batch_step: list[float] = field(default_factory=list)  # fractional epoch at the end of each batch
    batch_loss: list[float] = field(default_factory=list)
    batch_accuracy: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    epoch_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    examples_seen: int = 0
    elapsed_seconds: float = 0.0

    @property
    def examples_per_second(self) -> float:
        return self.examples_seen / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far; None until there is a rate to go by."""
        rate = self.examples_per_second
        if rate <= 0:
            return None
        return max(self.total_examples - self.examples_seen, 0) / rate

    @property
    def progress(self) -> float:
        done = self.epoch * self.steps_per_epoch + self.step
        return min(done / max(self.epochs * self.steps_per_epoch, 1), 1.0)

    def update_since(self, batches: int) -> MetricsUpdate:
        """What changed since the first ``batches`` batches were recorded, to send to another process."""
        return MetricsUpdate(
            epoch=self.epoch, step=self.step, examples_seen=self.examples_seen,
            elapsed_seconds=self.elapsed_seconds, first_batch=batches,
            batch_step=self.batch_step[batches:], batch_loss=self.batch_loss[batches:],
            batch_accuracy=self.batch_accuracy[batches:], epoch_loss=list(self.epoch_loss),
            epoch_accuracy=list(self.epoch_accuracy), val_loss=list(self.val_loss),
            val_accuracy=list(self.val_accuracy),
        )

    def apply(self, update: MetricsUpdate) -> None:
        """Bring this copy up to date with ``update`` (from ``update_since`` on the original)."""
        del self.batch_step[update.first_batch:], self.batch_loss[update.first_batch:]
        del self.batch_accuracy[update.first_batch:]
        self.batch_step += update.batch_step
        self.batch_loss += update.batch_loss
        self.batch_accuracy += update.batch_accuracy
        self.epoch, self.step = update.epoch, update.step
        self.examples_seen, self.elapsed_seconds = update.examples_seen, update.elapsed_seconds
        self.epoch_loss, self.epoch_accuracy = update.epoch_loss, update.epoch_accuracy
        self.val_loss, self.val_accuracy = update.val_loss, update.val_accuracy

    def history(self) -> dict[str, list[float]]:
        """Per-epoch figures, as stored with a saved run."""
        return {
            "loss": list(self.epoch_loss),
            "accuracy": list(self.epoch_accuracy),
            "val_loss": list(self.val_loss),
            "val_accuracy": list(self.val_accuracy),
        }


@dataclass
class MetricsUpdate:
    """The part of a run's Metrics recorded since ``first_batch`` batches (epoch figures whole: they are few)."""

    epoch: int
    step: int
    examples_seen: int
    elapsed_seconds: float
    first_batch: int
    batch_step: list[float]
    batch_loss: list[float]
    batch_accuracy: list[float]
    epoch_loss: list[float]
    epoch_accuracy: list[float]
    val_loss: list[float]
    val_accuracy: list[float]


def make_recorder(
    metrics: Metrics, lock: threading.Lock, stop_event: threading.Event, batch_size: int
) -> keras.callbacks.Callback:
    """A callback that fills ``metrics`` and stops training after the batch in which ``stop_event`` is set
    or the loss stops being finite (``callback.diverged`` tells which)."""
    import keras

    examples_per_epoch = metrics.total_examples // metrics.epochs

    class _Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.diverged = False
            self._started = time.perf_counter()

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self._previous = (0, 0.0, 0.0)  # examples seen this epoch, running mean loss, accuracy

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            seen_before, loss_before, accuracy_before = self._previous
            seen = min(seen_before + batch_size, examples_per_epoch)
            size = seen - seen_before
            loss_mean = float(logs.get("loss", math.nan))
            accuracy_mean = float(logs.get("accuracy", math.nan))
            # Undo Keras's running mean (weighted by batch size) to get this batch's own figures.
            batch_loss = (loss_mean * seen - loss_before * seen_before) / size
            batch_accuracy = (accuracy_mean * seen - accuracy_before * seen_before) / size
            self._previous = (seen, loss_mean, accuracy_mean)
            with lock:
                metrics.step = batch + 1
                metrics.examples_seen += size
                metrics.elapsed_seconds = time.perf_counter() - self._started
                metrics.batch_step.append(metrics.epoch + metrics.step / metrics.steps_per_epoch)
                metrics.batch_loss.append(batch_loss)
                metrics.batch_accuracy.append(batch_accuracy)
            if not math.isfinite(loss_mean):
                self.diverged = True
                self.model.stop_training = True
            elif stop_event.is_set():
                self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            with lock:
                if metrics.step == metrics.steps_per_epoch:  # a stopped epoch is not a finished one
                    metrics.epoch = epoch + 1
                    metrics.step = 0
                metrics.elapsed_seconds = time.perf_counter() - self._started
                metrics.epoch_loss.append(float(logs.get("loss", math.nan)))
                metrics.epoch_accuracy.append(float(logs.get("accuracy", math.nan)))
                if "val_loss" in logs:
                    metrics.val_loss.append(float(logs["val_loss"]))
                    metrics.val_accuracy.append(float(logs.get("val_accuracy", math.nan)))

    return _Recorder()


def training_count(data: Mnist, fraction: float) -> int:
    """How many digits train once the last ``fraction`` is held out for validation."""
    return len(data.y_train) - round(len(data.y_train) * fraction)


def split_validation(data: Mnist, fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out the last ``fraction`` of the training set, as Keras's validation_split does."""
    cut = training_count(data, fraction)
    x, y = normalise(data.x_train), data.y_train
    return x[:cut], y[:cut], x[cut:], y[cut:]


@dataclass
class TrainingOutcome:
    model: keras.Model
    status: str  # "finished", "stopped" or "diverged"
    seconds: float


def train(
    hp: Hyperparameters,
    data: Mnist,
    metrics: Metrics | None = None,
    lock: threading.Lock | None = None,
    stop_event: threading.Event | None = None,
    extra_train: tuple[np.ndarray, np.ndarray] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainingOutcome:
    """Build and fit a model for ``hp`` on ``data`` in this thread, recording into ``metrics``.

    ``extra_train`` (uint8 images, labels) joins the training split only, e.g. rendered drawings.
    ``callbacks`` run after the recorder, so they see each batch already recorded.
    """
    from digits.augment import augmented_dataset

    x_train, y_train, x_val, y_val = split_validation(data, hp.validation_split)
    if extra_train is not None:
        x_train = np.concatenate([x_train, normalise(extra_train[0])])
        y_train = np.concatenate([y_train, extra_train[1].astype(y_train.dtype)])
    metrics = metrics or new_metrics(hp, len(y_train))
    stop_event = stop_event or threading.Event()
    recorder = make_recorder(metrics, lock or threading.Lock(), stop_event, hp.batch_size)
    model = build_model(hp, metrics.steps_per_epoch)
    validation = (x_val, y_val) if len(y_val) else None
    started = time.perf_counter()
    if hp.augment:
        model.fit(augmented_dataset(x_train, y_train, hp.batch_size, hp.seed), epochs=hp.epochs, shuffle=False,
                  validation_data=validation, callbacks=[recorder, *callbacks], verbose=0)
    else:
        model.fit(x_train, y_train, batch_size=hp.batch_size, epochs=hp.epochs, validation_data=validation,
                  callbacks=[recorder, *callbacks], verbose=0)
    seconds = time.perf_counter() - started
    status = "diverged" if recorder.diverged else "stopped" if stop_event.is_set() else "finished"
    return TrainingOutcome(model=model, status=status, seconds=seconds)


def new_metrics(hp: Hyperparameters, train_examples: int) -> Metrics:
    steps = math.ceil(train_examples / hp.batch_size)
    return Metrics(epochs=hp.epochs, steps_per_epoch=steps, total_examples=train_examples * hp.epochs)


@dataclass
class Snapshot:
    """A consistent copy of a job's state for display."""

    job_id: str
    name: str
    hp: Hyperparameters
    status: str
    metrics: Metrics | None
    error: str | None
    record: RunRecord | None
    created: float

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]


# Training runs at this much lower priority than the server (nice 10: about a tenth of a core's share when
# both want the CPU), so readings on the Draw page stay quick while models train.
TRAINING_NICENESS = 10
# How often a training process sends its new figures; pages poll once a second.
UPDATE_SECONDS = 0.25


class TrainingJob:
    """Runs load -> train -> test -> save in a process of its own, watched by a thread of this one.

    A separate process, at lower priority, keeps training from taking the CPU, TensorFlow's thread
    pools and the GIL from everything else the server does, and gives its memory back when it ends.
    ``load_data`` runs in that process, so it must be picklable (a module-level function, or a
    functools.partial of one). ``slots`` (a semaphore shared by all jobs of a server) caps how many
    train at once; a job waiting for one can be cancelled. ``stop()`` ends training after the current
    batch and the model trained so far is still tested and saved.
    """

    def __init__(
        self,
        hp: Hyperparameters,
        name: str,
        load_data: Callable[[], Mnist],
        store: ModelStore | None = None,
        slots: threading.Semaphore | None = None,
        job_id: str = "",
    ) -> None:
        self.hp = hp
        self.name = name
        self.job_id = job_id or name
        self._load_data = load_data
        self._store = store
        self._slots = slots
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._connection: Connection | None = None  # to the training process, while there is one
        self._status = "waiting"
        self._has_slot = False
        self._metrics: Metrics | None = None
        self._error: str | None = None
        self._record: RunRecord | None = None
        self._created = time.time()
        self.model_file: bytes | None = None  # the .keras file of a model that could not be saved
        self.pid: int | None = None  # of the training process, while there is one
        self._thread = threading.Thread(target=self._run, name=f"train-{self.job_id}", daemon=True)

    def start(self) -> TrainingJob:
        # Take a free slot at once, so a run that need not wait is never shown as waiting.
        self._has_slot = self._slots is None or self._slots.acquire(blocking=False)
        if self._has_slot:
            self._status = "loading"
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the current batch (or cancel, if still waiting for a slot)."""
        self._stop_event.set()
        with self._lock:
            if self._status in ("loading", "training"):
                self._status = "stopping"
            if self._connection is not None:
                with contextlib.suppress(OSError):  # it has just ended
                    self._connection.send("stop")

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
                hp=self.hp,
                status=self._status,
                metrics=copy.deepcopy(self._metrics) if with_metrics else None,
                error=self._error,
                record=self._record,
                created=self._created,
            )

    def _acquire_slot(self) -> bool:
        if self._has_slot or self._slots is None:
            return True
        while not self._stop_event.is_set():
            if self._slots.acquire(timeout=0.2):
                return True
        return False

    def _run(self) -> None:
        if not self._acquire_slot():
            with self._lock:
                self._status = "cancelled"
            return
        try:
            self._watch_training_process()
        except Exception as error:  # The thread is the last place that can catch it: show it, never lose it.
            self._finish("failed", error=f"{type(error).__name__}: {error}")
            traceback.print_exc()
        finally:
            if self._slots is not None:
                self._slots.release()

    def _watch_training_process(self) -> None:
        # A plain `python -c`, not multiprocessing's spawn: under Streamlit, spawn would run the app's
        # script (Streamlit's __main__) once more in the new process, in bare mode.
        connection, child_end = multiprocessing.Pipe()
        process = subprocess.Popen(
            [sys.executable, "-c", "from digits.training import training_process; training_process()",
             str(child_end.fileno())],
            pass_fds=[child_end.fileno()], env={**os.environ, "PYTHONPATH": _import_path()},
        )
        child_end.close()  # the child holds the only other end now, so its exit ends the reading below
        self.pid = process.pid
        connection.send((self.hp, self.name, self._load_data, self._store))
        with self._lock:
            self._status = "stopping" if self._stop_event.is_set() else "loading"
            self._connection = connection  # from now on stop() tells the process itself
            if self._stop_event.is_set():
                connection.send("stop")
        finished = False
        try:
            while not finished:
                try:
                    finished = self._receive(connection.recv())
                except EOFError:
                    break
        finally:
            with self._lock:
                self._connection = None
            connection.close()
            process.wait()
            self.pid = None
        if not finished:
            self._finish("failed", error=f"The training process ended unexpectedly (exit code {process.returncode}); "
                                         "the server may be short of memory.")

    def _receive(self, message: tuple[Any, ...]) -> bool:
        """Take one message from the training process; True once it has sent its final one."""
        kind, *content = message
        with self._lock:
            if kind == "training":
                self._metrics = content[0]
                if self._status != "stopping":
                    self._status = "training"
            elif kind == "progress" and self._metrics is not None:
                self._metrics.apply(content[0])
            elif kind == "saving":
                self._status = "saving"
        if kind == "final":
            status, record, error, model_file = content
            self.model_file = model_file
            self._finish(status, record, error)
            return True
        return False

    def _finish(self, status: str, record: RunRecord | None = None, error: str | None = None) -> None:
        with self._lock:
            self._status, self._record, self._error = status, record, error


def _import_path() -> str:
    """PYTHONPATH for the training process: this package's folder first, then what it had."""
    inherited = os.environ.get("PYTHONPATH")
    here = str(Path(__file__).resolve().parent.parent)
    return here + (os.pathsep + inherited if inherited else "")


def training_process() -> None:
    """The training process (see TrainingJob._watch_training_process): everything a job does, its news
    sent to the server (see TrainingJob._receive).

    If the server goes, even killed, the connection breaks and this process ends at once: a run nobody
    can see must not go on holding the CPU. A run it had not saved is lost, as the store promises: it
    only ever shows complete runs.
    """
    server = Connection(int(sys.argv[1]))
    if hasattr(os, "nice"):
        os.nice(TRAINING_NICENESS)
    hp, name, load_data, store = server.recv()
    stop_event = threading.Event()

    def listen() -> None:
        try:
            while True:
                if server.recv() == "stop":
                    stop_event.set()
        except (EOFError, OSError):
            os._exit(1)

    threading.Thread(target=listen, name="listen-to-server", daemon=True).start()
    try:
        result = _train_test_save_steps(server, stop_event, hp, name, load_data, store)
    except Exception as error:
        traceback.print_exc()
        result = ("failed", None, f"{type(error).__name__}: {error}", None)
    server.send(("final", *result))


def _train_test_save_steps(
    parent: Connection,
    stop_event: threading.Event,
    hp: Hyperparameters,
    name: str,
    load_data: Callable[[], Mnist],
    store: ModelStore | None,
) -> tuple[str, RunRecord | None, str | None, bytes | None]:
    """Status, record, error and (when saving failed) the model file."""
    import keras

    from digits.evaluation import evaluate
    from digits.non_digits import calibrate_on_validation
    from digits.store import StoreError, model_file_bytes, new_run_record

    data = load_data()
    metrics = new_metrics(hp, training_count(data, hp.validation_split))
    parent.send(("training", copy.deepcopy(metrics)))
    lock = threading.Lock()

    class _Sender(keras.callbacks.Callback):
        """Sends what the recorder added, at most every UPDATE_SECONDS and at each epoch's end."""

        sent_batches, sent_at = 0, 0.0

        def send(self) -> None:
            with lock:
                update = metrics.update_since(self.sent_batches)
                self.sent_batches = len(metrics.batch_loss)
            parent.send(("progress", update))
            self.sent_at = time.monotonic()

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if time.monotonic() - self.sent_at >= UPDATE_SECONDS:
                self.send()

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.send()

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            self.send()

    outcome = train(hp, data, metrics, lock, stop_event, callbacks=[_Sender()])
    if outcome.status == "diverged":
        return "diverged", None, None, None
    parent.send(("saving",))
    test = evaluate(outcome.model, data.x_test, data.y_test)
    record = new_run_record(name=name, hp=hp, history=metrics.history(), test=test.summary(),
                            seconds=outcome.seconds, data=data, status=outcome.status,
                            not_a_digit=calibrate_on_validation(outcome.model, data, hp.validation_split).to_dict())
    if store is None:
        return outcome.status, record, None, None
    try:
        return outcome.status, store.save(outcome.model, record), None, None
    except StoreError as error:  # e.g. a full disk: send the model back so it can still be downloaded
        return "unsaved", record, str(error), model_file_bytes(outcome.model)


class AlreadyTraining(Exception):
    """This session already has a run in progress; one at a time."""


class JobRegistry:
    """All training jobs of one server, each owned by one browser session.

    At most ``max_running`` train at once; later ones wait in their job (status "waiting") and
    can be cancelled. Finished jobs are kept so a refreshed page can still show their curves.
    """

    def __init__(self, max_running: int = 2, keep_finished: int = 50) -> None:
        self.max_running = max_running
        self._slots = threading.BoundedSemaphore(max_running)
        self._jobs: dict[str, TrainingJob] = {}
        self._owners: dict[str, str] = {}
        self._keep_finished = keep_finished
        self._lock = threading.Lock()

    def submit(
        self,
        owner: str,
        hp: Hyperparameters,
        name: str,
        load_data: Callable[[], Mnist],
        store: ModelStore | None,
    ) -> TrainingJob:
        """Start a job for ``owner``; AlreadyTraining if that owner has one that has not ended."""
        with self._lock:
            for job_id, job_owner in self._owners.items():
                if job_owner == owner and not self._jobs[job_id].snapshot().done:
                    raise AlreadyTraining(
                        f"A training run ({self._jobs[job_id].name}) is still going; stop it or wait for it to end."
                    )
            job_id = f"{name}-{uuid.uuid4().hex[:8]}"
            job = TrainingJob(hp, name, load_data, store, self._slots, job_id=job_id)
            self._jobs[job_id] = job
            self._owners[job_id] = owner
            self._forget_old_jobs()
        return job.start()

    def get(self, job_id: str) -> TrainingJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _forget_old_jobs(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.snapshot().done]
        for job_id in finished[: max(len(finished) - self._keep_finished, 0)]:
            del self._jobs[job_id]
            del self._owners[job_id]
