"""Tasks an engine runs (see digits.background.jobs.Task): small picklable dataclasses whose ``run`` does the work.

TrainTask is the app's first: load the digits (and, to learn what is not a digit, draw doodles), train with
live figures, test, pack the model.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from digits.background.jobs import JobStatus, Progress, Saving, Started, TaskMessage, TaskResult
from digits.checkpoints import EpochFinished, Resume
from digits.data import Mnist
from digits.models import Hyperparameters, model_compute_dtype

if TYPE_CHECKING:
    import keras
    from keras.callbacks import Callback

    from digits.evaluation import Evaluation
    from digits.snapshots import NetworkSnapshot
    from digits.store import RunRecord
    from digits.training import Metrics, TrainingOutcome


def extra_training_examples(hp: Hyperparameters) -> tuple[np.ndarray, np.ndarray] | None:
    """What a run learns besides MNIST's training digits: doodles labelled "not a digit" when it learns what is
    not a digit, else nothing. They are drawn once per seed and kept (digits.example_cache), keyed by the code
    that draws them, the real doodles they learn from and the imaging libraries' versions."""
    if not hp.not_a_digit:
        return None
    import PIL

    from digits import doodles, non_digits, preprocess, quickdraw, unipen
    from digits.example_cache import examples_key, load_or_render

    drawing_code = [Path(module.__file__) for module in (non_digits, doodles, preprocess, quickdraw, unipen)]
    key = examples_key({"seed": hp.seed, "numpy": np.__version__, "pillow": PIL.__version__},
                       [*drawing_code, quickdraw.quickdraw_path()])
    return load_or_render("not-a-digit", key, lambda: non_digits.not_a_digit_examples(hp.seed))


def train_reporting(
    report: Callable[[TaskMessage], None],
    metrics: Metrics,
    train: Callable[[threading.Lock, list[keras.callbacks.Callback]], TrainingOutcome],
    data: Mnist,
    watchers: Sequence[keras.callbacks.Callback] = (),
) -> TrainingOutcome:
    """What every task that trains does around its training: ``train(lock, callbacks)`` fills ``metrics`` (under
    ``lock``) and runs ``callbacks``, which send its figures as it goes, then what ``watchers`` send (snapshots),
    then the state after each finished epoch, to carry on from (digits.checkpoints). It is reported Started first,
    and Saving once it ends, unless it diverged (there is nothing to save then)."""
    from digits.training import make_checkpointer, make_reporter

    report(Started(copy.deepcopy(metrics)))
    lock = threading.Lock()
    fingerprint = data.fingerprint
    outcome = train(lock, [make_reporter(metrics, lock, lambda update: report(Progress(update))), *watchers,
                           make_checkpointer(metrics, lock, lambda state: report(EpochFinished(state, fingerprint)))])
    if outcome.status != JobStatus.DIVERGED:
        report(Saving())
    return outcome


def starting_metrics(resume: Resume | None, fresh: Callable[[], Metrics]) -> Metrics:
    """The figures a task records into: those of the checkpoint it carries on from, else ``fresh()``."""
    return copy.deepcopy(resume.checkpoint.metrics) if resume is not None else fresh()


def trained_result(outcome: TrainingOutcome, record: RunRecord | None = None, test: Evaluation | None = None,
                   data: Mnist | None = None) -> TaskResult:
    """A task's result once its training ended: the model, its record and its ``test`` on ``data``'s test digits to
    save, or "diverged" and nothing."""
    from digits.saved_probabilities import TestReading
    from digits.store import model_file_bytes

    if outcome.status == JobStatus.DIVERGED:
        return TaskResult(JobStatus.DIVERGED)
    reading = TestReading(test.probabilities, data.test_fingerprint) if test is not None and data is not None else None
    return TaskResult(JobStatus(outcome.status), record, model_file_bytes(outcome.model), test_reading=reading)


def snapshot_recorder(data: Mnist, steps_per_epoch: int, report: Callable[[TaskMessage], None],
                      carries_on_from: NetworkSnapshot | None = None) -> Callback:
    """The callback that sends snapshots of the network, looking at the same test digits in every run."""
    from digits.snapshot_recorder import SnapshotRecorder
    from digits.snapshots import choose_probe

    return SnapshotRecorder(choose_probe(data.x_test, data.y_test), report, steps_per_epoch, carries_on_from)


@dataclass(frozen=True)
class TrainTask:
    """Load -> train -> test -> the model as bytes, for the job to save.

    ``load_data`` runs wherever the task runs, so it must be picklable (a module-level function such as
    digits.data.load_mnist, or a functools.partial of one).
    """

    hp: Hyperparameters
    name: str
    load_data: Callable[[], Mnist]
    snapshots: bool = True  # snapshots of the network as it learns (digits.snapshots), sent as it trains
    resume: Resume | None = None  # where to carry on from, after the run's process or server was lost

    def run(self, report: Callable[[TaskMessage], None], stop_event: threading.Event) -> TaskResult:
        from digits.evaluation import evaluate
        from digits.non_digits import calibrate_on_validation
        from digits.store import new_run_record
        from digits.training import new_metrics, train, training_count

        data = self.load_data()
        extra = extra_training_examples(self.hp)
        resume = self.resume.checked(data.fingerprint) if self.resume else None
        metrics = starting_metrics(resume, lambda: new_metrics(
            self.hp, training_count(data, self.hp.validation_split) + (len(extra[1]) if extra else 0)))
        watchers = [snapshot_recorder(data, metrics.steps_per_epoch, report, resume and resume.last_snapshot)] \
            if self.snapshots else []
        outcome = train_reporting(report, metrics, lambda lock, callbacks: train(
            self.hp, data, metrics, lock, stop_event, extra_train=extra, callbacks=callbacks, resume=resume),
            data, watchers)
        if outcome.status == JobStatus.DIVERGED:
            return trained_result(outcome)
        test = evaluate(outcome.model, data.x_test, data.y_test)
        record = new_run_record(name=self.name, hp=self.hp, history=metrics.history(), test=test.summary(),
                                seconds=outcome.seconds, data=data, status=outcome.status,
                                compute_dtype=model_compute_dtype(outcome.model),
                                not_a_digit=calibrate_on_validation(outcome.model, data, self.hp.validation_split)
                                .to_dict())
        return trained_result(outcome, record, test, data)
