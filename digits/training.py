"""Train a model in the caller's thread, with live metrics and a stop switch.

Running it in the background (a process of its own, or a Ray cluster) is digits.background.jobs' and the engines' work:
this module only trains, records what it sees, and reports it through a plain callable.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from digits.data import Mnist, normalise
from digits.models import Hyperparameters, build_model

if TYPE_CHECKING:
    import keras

    from digits.checkpoints import Resume, TrainingState

# How often a run in the background sends its new figures; pages poll once a second.
UPDATE_SECONDS = 0.25


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
    batch_seconds: list[float] = field(default_factory=list)  # seconds of training at the end of each batch
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

    @property
    def current_epoch(self) -> int:
        """The epoch under way, counted from 1; once all are done (or between two), the last one finished."""
        return min(self.epoch + (1 if self.step else 0), self.epochs) or 1

    @property
    def recent_window(self) -> int:
        """How many of the latest batches make a "recent" mean: a tenth of an epoch, smooth yet current."""
        return max(self.steps_per_epoch // 10, 1)

    def recent_mean(self, values: list[float]) -> float | None:
        """The mean of the last ``recent_window`` of ``values`` (per-batch figures); None before any."""
        recent = values[-self.recent_window:]
        return sum(recent) / len(recent) if recent else None

    def update_since(self, batches: int) -> MetricsUpdate:
        """What changed since the first ``batches`` batches were recorded, to send to another process."""
        return MetricsUpdate(
            epoch=self.epoch, step=self.step, examples_seen=self.examples_seen,
            elapsed_seconds=self.elapsed_seconds, first_batch=batches,
            batch_step=self.batch_step[batches:], batch_loss=self.batch_loss[batches:],
            batch_accuracy=self.batch_accuracy[batches:], batch_seconds=self.batch_seconds[batches:],
            epoch_loss=list(self.epoch_loss),
            epoch_accuracy=list(self.epoch_accuracy), val_loss=list(self.val_loss),
            val_accuracy=list(self.val_accuracy),
        )

    def apply(self, update: MetricsUpdate) -> None:
        """Bring this copy up to date with ``update`` (from ``update_since`` on the original)."""
        del self.batch_step[update.first_batch:], self.batch_loss[update.first_batch:]
        del self.batch_accuracy[update.first_batch:], self.batch_seconds[update.first_batch:]
        self.batch_step += update.batch_step
        self.batch_loss += update.batch_loss
        self.batch_accuracy += update.batch_accuracy
        self.batch_seconds += update.batch_seconds
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
    batch_seconds: list[float]
    epoch_loss: list[float]
    epoch_accuracy: list[float]
    val_loss: list[float]
    val_accuracy: list[float]


def make_recorder(
    metrics: Metrics, lock: threading.Lock, stop_event: threading.Event, batch_size: int
) -> keras.callbacks.Callback:
    """A callback that fills ``metrics`` and stops training after the batch in which ``stop_event`` is set.
    (A loss that stops being finite is keras.callbacks.TerminateOnNaN's to catch: see ``train``.)"""
    import keras

    examples_per_epoch = metrics.total_examples // metrics.epochs

    class _Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self._started = time.perf_counter() - metrics.elapsed_seconds  # a run carried on keeps its clock

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
                metrics.batch_seconds.append(metrics.elapsed_seconds)
            if stop_event.is_set():
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


def make_reporter(
    metrics: Metrics, lock: threading.Lock, send: Callable[[MetricsUpdate], None], every: float = UPDATE_SECONDS
) -> keras.callbacks.Callback:
    """A callback, run after the recorder, that passes what it added to ``send`` at most every ``every``
    seconds and at each epoch's end: live figures for another process without flooding it."""
    import keras

    class _Reporter(keras.callbacks.Callback):
        sent_batches, sent_at = 0, 0.0

        def report(self) -> None:
            with lock:
                update = metrics.update_since(self.sent_batches)
                self.sent_batches = len(metrics.batch_loss)
            send(update)
            self.sent_at = time.monotonic()

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if time.monotonic() - self.sent_at >= every:
                self.report()

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.report()

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            self.report()

    return _Reporter()


def make_checkpointer(
    metrics: Metrics, lock: threading.Lock, send: Callable[[TrainingState], None]
) -> keras.callbacks.Callback:
    """A callback, run last, that passes the model's state to ``send`` after each finished epoch (not after one
    cut short by a stop or a loss gone wrong), once every other callback has sent what that epoch showed."""
    import keras

    from digits.checkpoints import capture

    class _Checkpointer(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            with lock:
                finished = metrics.epoch == epoch + 1
            if finished and not self.model.stop_training:
                send(capture(self.model, epoch + 1))

    return _Checkpointer()


def diverged(metrics: Metrics) -> bool:
    """Whether the last batch's loss was infinite or not a number (TerminateOnNaN stopped training there)."""
    return bool(metrics.batch_loss) and not math.isfinite(metrics.batch_loss[-1])


def training_count(data: Mnist, fraction: float) -> int:
    """How many digits train once the last ``fraction`` is held out for validation."""
    return len(data.y_train) - round(len(data.y_train) * fraction)


def split_validation(data: Mnist, fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out the last ``fraction`` of the training set, as Keras's validation_split does."""
    cut = training_count(data, fraction)
    x, y = normalise(data.x_train), data.y_train
    return x[:cut], y[:cut], x[cut:], y[cut:]


def validation_images(data: Mnist, fraction: float) -> np.ndarray:
    """split_validation's validation images alone, without preparing the training ones."""
    return normalise(data.x_train[training_count(data, fraction):])


@dataclass
class TrainingOutcome:
    model: keras.Model
    status: str  # "finished", "stopped", "diverged" or "interrupted" (see fit_live)
    seconds: float


def train(
    hp: Hyperparameters,
    data: Mnist,
    metrics: Metrics | None = None,
    lock: threading.Lock | None = None,
    stop_event: threading.Event | None = None,
    extra_train: tuple[np.ndarray, np.ndarray] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    resume: Resume | None = None,
) -> TrainingOutcome:
    """Build and fit a model for ``hp`` on ``data`` in this thread, recording into ``metrics`` (see fit_live),
    carrying on from ``resume`` when given.

    ``extra_train`` (uint8 images, labels) joins the training split only, e.g. rendered drawings.
    """
    from digits.augment import augmented_dataset

    x_train, y_train, x_val, y_val = split_validation(data, hp.validation_split)
    if extra_train is not None:
        x_train = np.concatenate([x_train, normalise(extra_train[0])])
        y_train = np.concatenate([y_train, extra_train[1].astype(y_train.dtype)])
    metrics = metrics or new_metrics(hp, len(y_train))
    model = build_model(hp, metrics.steps_per_epoch)
    validation = (x_val, y_val) if len(y_val) else None
    inputs = (augmented_dataset(x_train, y_train, hp.batch_size, hp.seed), None) if hp.augment else (x_train, y_train)
    return fit_live(model, *inputs, hp.epochs, hp.batch_size, metrics, lock, stop_event, callbacks, validation,
                    resume)


def fit_live(
    model: keras.Model,
    x: Any,
    y: np.ndarray | None,
    epochs: int,
    batch_size: int,
    metrics: Metrics,
    lock: threading.Lock | None = None,
    stop_event: threading.Event | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    resume: Resume | None = None,
) -> TrainingOutcome:
    """Fit the compiled ``model`` in this thread on ``x`` and ``y`` (arrays, shuffled each epoch) or on ``x``
    alone (a batched tf.data dataset, ``y`` None), recording into ``metrics``; ``stop_event`` stops it after
    the current batch. The one training loop of training and teaching alike.

    ``callbacks`` run after the recorder, so they see each batch already recorded (make_reporter's, say).

    With ``resume`` (and ``metrics`` as recorded up to its checkpoint) the model's state is put back and training
    carries on from the next epoch; a resume that may not carry on ends at once, "interrupted", with that state."""
    import keras

    initial_epoch = 0
    if resume is not None:
        from digits.checkpoints import restore

        restore(model, resume.checkpoint.state)
        initial_epoch = resume.checkpoint.state.epoch
        if not resume.carry_on:
            return TrainingOutcome(model=model, status="interrupted", seconds=metrics.elapsed_seconds)
    trained_before = metrics.elapsed_seconds
    stop_event = stop_event or threading.Event()
    # TerminateOnNaN after the recorder, so the batch that went wrong is recorded before training stops.
    every_callback = [make_recorder(metrics, lock or threading.Lock(), stop_event, batch_size),
                      keras.callbacks.TerminateOnNaN(), *callbacks]
    started = time.perf_counter()
    if y is None:
        model.fit(x, epochs=epochs, initial_epoch=initial_epoch, shuffle=False, validation_data=validation,
                  callbacks=every_callback, verbose=0)
    else:
        model.fit(x, y, batch_size=batch_size, epochs=epochs, initial_epoch=initial_epoch,
                  validation_data=validation, callbacks=every_callback, verbose=0)
    seconds = trained_before + time.perf_counter() - started
    status = "diverged" if diverged(metrics) else "stopped" if stop_event.is_set() else "finished"
    return TrainingOutcome(model=model, status=status, seconds=seconds)


def new_metrics(hp: Hyperparameters, train_examples: int) -> Metrics:
    steps = math.ceil(train_examples / hp.batch_size)
    return Metrics(epochs=hp.epochs, steps_per_epoch=steps, total_examples=train_examples * hp.epochs)
