"""Teach a saved model one person's handwriting from a few labelled drawings, without forgetting everyone else's.

The drawings are the Draw page's own saved ones (digits/feedback.py: PNG + JSON), read through the
page's own preprocessing. A copy of the model is fine-tuned on many randomly varied copies of them,
mixed with replayed digits it already reads (MNIST, and pen-drawn digits when the model learned from
those). The replayed digits are taught with the old model's own answers as targets (distillation,
"learning without forgetting"), which keeps what it knew far better than their bare labels: its
confidence on everyone else's digits is what a naive fine-tune loses.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, UnidentifiedImageError

from digits.data import IMAGE_SIZE, Mnist, normalise
from digits.default_model import split_by_writer
from digits.drawn_sets import DrawnSample, render_sample, share_read_right
from digits.evaluation import evaluate
from digits.feedback import NOT_A_DIGIT_ANSWER
from digits.models import Hyperparameters, model_compute_dtype
from digits.predict import Decision, model_decision
from digits.preprocess import preprocess_canvas
from digits.store import ModelStore, RunRecord, new_run_record
from digits.training import Metrics, TrainingOutcome, fit_live
from digits.unipen import DrawnDigit

if TYPE_CHECKING:
    import keras

    from digits.background.jobs import TaskMessage, TaskResult
    from digits.checkpoints import Resume

MIN_DRAWINGS = 10  # fewer teach nothing that lasts, and say nothing about the person
# Measuring needs drawings the model never learned from: with at least HOLD_OUT_MIN_PER_DIGIT drawings of a
# digit, HOLD_OUT_SHARE of them are kept back from teaching, and "before" and "after" are measured on those.
HOLD_OUT_MIN_PER_DIGIT = 6
HOLD_OUT_SHARE = 0.2
# MNIST training digits replayed per teaching: 3,000 kept MNIST test at 0.990, 6,000 at 0.992; with AMBIGUOUS at
# 0.98, 8,000 kept 0.991 and 12,000 0.992. With twice the styled digits (below), 12,000 kept 0.9903-0.9908 and
# 18,000 0.9911-0.9916 (the mirroring child, three picks of drawings).
REPLAY_MNIST = 18000
REPLAY_DRAWN_COPIES = 1  # renderings of each replayed pen-drawn digit
# A digit changed into the person's style that the model reads as another this surely is left out. Measured on
# the mirroring child (person / other people / MNIST): none left out 0.977 / 0.968 / 0.982; above 0.5 left out
# 0.920 / 0.983 / 0.993; above 0.9, 0.960 / 0.979 / 0.990. Later, two other children: above 0.9, 0.943 and
# 0.947; above 0.98, 0.953 and 0.953 (with 12,000 replayed MNIST digits: MNIST 0.992, other people 0.98).
AMBIGUOUS = 0.98
# Pen-drawn digits by other people: part replayed while teaching, part a yardstick for everyone else's digits.
SHIPPED_DRAWN = Path(__file__).resolve().parent.parent / "assets" / "drawn" / "unipen_digits_1000.json.gz"
_TAUGHT_SUFFIX = re.compile(r"-taught-\d+$")


class TeachError(ValueError):
    """The drawings cannot be used to teach; the message says which and why."""


@dataclass(frozen=True)
class TeachSettings:
    """How a model is taught. The defaults were chosen by measurement on the mirroring child (see
    benchmarks/teach.py; person / other people / MNIST, before styles were added): every layer at 3e-4 reached
    only 0.82 / 0.98 / 0.991 in 6 epochs; at 1e-3, 0.90 / 0.98 / 0.993 in 28 s; the dense head alone at 1e-3,
    0.91 / 0.98 / 0.994 in 15 s. Styled examples (digits/styles.py) then took the person to 0.96."""

    learning_rate: float = 1e-3
    epochs: int = 6
    copies: int = 24  # randomly varied copies of each drawing per epoch
    batch_size: int = 64
    learn: str = "head"  # "all" layers, or "head": only the dense layers after the convolutions
    # Replayed digits changed into the person's style, per styled digit (0: none). On the mirroring child,
    # 300: 0.940 and 0.957 (two people); 600: 0.950 and 0.973, MNIST 0.991 either way. With the default model
    # of 2026-11-27 10:10 (three picks of the child's drawings; person / MNIST): 600, 0.950-0.967 / 0.992;
    # 1,200 (and 18,000 replayed MNIST digits), 0.960-0.967 / 0.991; the slanting writer 0.953 -> 0.963.
    styled_per_digit: int = 1200
    seed: int = 0


@dataclass(frozen=True)
class Drawings:
    """A person's labelled drawings, prepared as the Draw page prepares them: one 28x28 image per digit."""

    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) uint8
    skipped: tuple[str, ...] = ()  # why some saved drawings were not used

    def __len__(self) -> int:
        return len(self.labels)

    def counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=10).tolist()

    def subset(self, rows: np.ndarray) -> Drawings:
        return Drawings(self.images[rows], self.labels[rows])


def drawing_images(canvas: np.ndarray, label: str) -> list[tuple[np.ndarray, int]]:
    """The digits in one saved drawing with their labels; [] when its digits and its label disagree in number
    (a "2026" drawing gives four digits when the page finds four)."""
    found = preprocess_canvas(canvas)
    return list(zip(found, (int(char) for char in label), strict=True)) if len(found) == len(label) else []


def read_drawings(directory: Path) -> Drawings:
    """Every drawing saved in ``directory`` (PNG + JSON record, as the Draw page saves them).

    TeachError for a missing, unreadable or empty folder, and for a record whose label is not digits.
    Drawings whose digits cannot be found are skipped and listed in ``skipped``."""
    if not directory.is_dir():
        raise TeachError(f"{directory} is not a folder of saved drawings.")
    try:
        records = sorted(directory.glob("*.json"))
    except OSError as error:
        raise TeachError(f"{directory} cannot be read: {error.strerror or error}.") from error
    if not records:
        raise TeachError(f"{directory} holds no saved drawings (a PNG and a JSON record for each).")
    images, labels, skipped = [], [], []
    for record in records:
        try:
            label = str(json.loads(record.read_text())["label"])
            with Image.open(record.with_suffix(".png")) as image:
                canvas = np.asarray(image.convert("RGBA"))
        except (OSError, ValueError, KeyError, TypeError, UnidentifiedImageError) as error:
            raise TeachError(f"{record.name} (or its PNG) cannot be read: {error}.") from error
        if label == NOT_A_DIGIT_ANSWER:  # a star or a letter the person marked so: no handwriting of a digit to learn
            skipped.append(f"{record.stem}: marked as not a digit")
            continue
        if not (label.isascii() and label.isdigit()):
            raise TeachError(f"{record.name} is labelled {label!r}: a label must be a digit 0-9 (or a number).")
        pairs = drawing_images(canvas, label)
        if not pairs:
            skipped.append(f"{record.stem}: its digits could not be told apart from the drawing")
        for image28, digit in pairs:
            images.append(image28)
            labels.append(digit)
    return Drawings(np.array(images, np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE), np.array(labels, np.uint8),
                    tuple(skipped))


def missing_digits(drawings: Drawings, wanted: int = 1) -> list[int]:
    """The digits with fewer than ``wanted`` drawings."""
    return [digit for digit, count in enumerate(drawings.counts()) if count < wanted]


def split_held_out(drawings: Drawings, seed: int = 0) -> tuple[Drawings, Drawings | None]:
    """(to teach, to measure on): a share of each digit with enough drawings is held back; None when no digit
    has enough, and then nothing can be measured honestly."""
    rng = np.random.default_rng(seed)
    teach_rows, measure_rows = [], []
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(drawings.labels == digit))
        keep = math.floor(len(rows) * HOLD_OUT_SHARE) if len(rows) >= HOLD_OUT_MIN_PER_DIGIT else 0
        measure_rows.extend(rows[:keep])
        teach_rows.extend(rows[keep:])
    if not measure_rows:
        return drawings, None
    return drawings.subset(np.sort(teach_rows)), drawings.subset(np.sort(measure_rows))


def replay_digits(data: Mnist, drawn: Sequence[DrawnDigit] = (), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Digits the model already reads, to keep reading them: random MNIST training digits, plus ``drawn``
    pen-drawn digits rendered and preprocessed as the Draw page would receive them."""
    from digits.default_model import render_training_drawings

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(data.y_train), size=min(REPLAY_MNIST, len(data.y_train)), replace=False)
    images, labels = [data.x_train[rows]], [data.y_train[rows]]
    if drawn:
        rendered = render_training_drawings(list(drawn), REPLAY_DRAWN_COPIES, seed)
        images.append(rendered[0])
        labels.append(rendered[1])
    return np.concatenate(images), np.concatenate(labels).astype(np.uint8)


def other_peoples_digits() -> list[DrawnDigit]:
    """The shipped pen-drawn digits, else $DIGITS_DRAWN_DATA's; [] when neither can be read (teaching then
    replays MNIST alone and cannot say how other people's drawings fare)."""
    from digits.unipen import DrawnDataError, load_drawn_digits

    try:
        return load_drawn_digits(SHIPPED_DRAWN if SHIPPED_DRAWN.is_file() else None)
    except DrawnDataError:
        return []


def copy_model(model: keras.Model) -> keras.Model:
    """A fresh copy with the same weights, so the original stays as it was."""
    copied = type(model).from_config(model.get_config())
    copied.set_weights(model.get_weights())
    return copied


def _choose_learners(model: keras.Model, learn: str) -> None:
    """Batch normalisation keeps its statistics (a few drawings would skew them: frozen layers run in
    inference mode); with ``learn == "head"`` only the dense layers after the last convolution learn."""
    import keras

    last_conv = max((i for i, layer in enumerate(model.layers) if isinstance(layer, keras.layers.Conv2D)),
                    default=-1)
    for index, layer in enumerate(model.layers):
        if isinstance(layer, keras.layers.BatchNormalization) or (learn == "head" and index <= last_conv):
            layer.trainable = False


@dataclass(frozen=True)
class Lesson:
    """What a model is taught: images, soft targets, and the styles found in the person's drawings."""

    images: np.ndarray  # (N, 28, 28) floats in 0..1
    targets: np.ndarray  # (N, outputs) probabilities
    styles: dict[int, str]  # digits the person writes as a simple change of everyone's: mirrored, slanted...


def prepare_lesson(
    model: keras.Model, drawings: Drawings, replay: tuple[np.ndarray, np.ndarray], settings: TeachSettings
) -> Lesson:
    """Each drawing ``copies`` times with its label; replayed digits changed into the person's style
    (digits/styles.py) with their labels; the replayed digits as they are with the model's own answers
    (where the model got one wrong, its label instead)."""
    from digits.evaluation import predict_probabilities
    from digits.predict import make_predictor
    from digits.styles import infer_styles, styled_examples

    if len(drawings) == 0:
        raise TeachError("There are no drawings to teach.")
    outputs = model.output_shape[-1]
    replay_images, replay_labels = replay
    styles = infer_styles(make_predictor(model), drawings.images, drawings.labels) \
        if settings.styled_per_digit else {}
    styled_images, styled_labels = styled_examples(replay_images, replay_labels, styles, settings.styled_per_digit,
                                                   settings.seed)
    if len(styled_labels):
        # A changed digit that the model already reads as another digit (a mirrored 5 can look like someone's
        # 2) would teach it to misread that other digit: leave those out.
        others = predict_probabilities(model, styled_images)
        others[np.arange(len(styled_labels)), styled_labels] = 0
        clear = others.max(axis=1) < AMBIGUOUS
        styled_images, styled_labels = styled_images[clear], styled_labels[clear]
    old = predict_probabilities(model, replay_images)
    wrong = old.argmax(axis=1) != replay_labels
    old[wrong] = np.eye(outputs, dtype=old.dtype)[replay_labels[wrong]]
    yours = np.eye(outputs, dtype=np.float32)[np.concatenate([np.repeat(drawings.labels, settings.copies),
                                                               styled_labels])]
    images = np.concatenate([np.repeat(drawings.images, settings.copies, axis=0), styled_images, replay_images])
    return Lesson(normalise(images), np.concatenate([yours, old.astype(np.float32)]), styles)


def new_teach_metrics(settings: TeachSettings, lesson: Lesson) -> Metrics:
    examples = len(lesson.targets)
    steps = math.ceil(examples / settings.batch_size)
    return Metrics(epochs=settings.epochs, steps_per_epoch=steps, total_examples=examples * settings.epochs)


def teach(
    model: keras.Model,
    lesson: Lesson,
    settings: TeachSettings = TeachSettings(),
    metrics: Metrics | None = None,
    lock: threading.Lock | None = None,
    stop_event: threading.Event | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    resume: Resume | None = None,
) -> TrainingOutcome:
    """Fine-tune a copy of ``model`` on ``lesson`` in this thread, recording into ``metrics``; ``stop_event``
    stops it after the current batch, keeping what it has learned so far; ``resume`` carries on from a checkpoint
    (see fit_live). The output layer stays as it is (10 digits, or 11 with "not a digit")."""
    import keras

    from digits.augment import augmented_dataset

    metrics = metrics or new_teach_metrics(settings, lesson)
    keras.utils.set_random_seed(settings.seed)
    student = copy_model(model)
    _choose_learners(student, settings.learn)
    schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate, settings.epochs * metrics.steps_per_epoch)
    student.compile(optimizer=keras.optimizers.Adam(schedule), loss="categorical_crossentropy",
                    metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    outcome = fit_live(student, augmented_dataset(lesson.images, lesson.targets, settings.batch_size, settings.seed),
                       None, settings.epochs, settings.batch_size, metrics, lock, stop_event, callbacks,
                       resume=resume)
    for layer in student.layers:
        layer.trainable = True  # saved as an ordinary model
    return outcome


def check_enough(drawings: Drawings) -> None:
    """TeachError when there are too few drawings to teach anything that lasts."""
    if len(drawings) < MIN_DRAWINGS:
        raise TeachError(f"Only {len(drawings)} usable drawing(s): teaching needs at least {MIN_DRAWINGS}, "
                         "ideally 3 or more of every digit.")


def taught_name(store: ModelStore, source: str) -> str:
    """``<model>-taught-<n>``, the first n free; a taught model's own suffix is replaced, not repeated."""
    base = _TAUGHT_SUFFIX.sub("", source)
    number = 1
    while store.exists(f"{base}-taught-{number}"):
        number += 1
    return f"{base}-taught-{number}"


def learned_from_drawn(record: RunRecord) -> bool:
    """Whether the model learned pen-drawn digits (the default model does): then teaching replays them too."""
    return bool(record.drawn.get("training_drawings")) or bool(record.taught.get("replayed_drawn"))


def accuracy(probabilities: Callable[[np.ndarray], np.ndarray], images: np.ndarray, labels: np.ndarray) -> float:
    """Share read right (an 11th "not a digit" answer counts as wrong)."""
    return float((probabilities(images).argmax(axis=1) == labels).mean())


@dataclass(frozen=True)
class Yardsticks:
    """What "before" and "after" are measured on."""

    yours: Drawings  # the person's held-out drawings, or (when too few to hold any out) the taught ones
    held_out: bool
    mnist: tuple[np.ndarray, np.ndarray]
    other_people: DrawnSample | None  # pen-drawn digits by writers teaching never replays
    decision: Decision  # the source's "not a digit" decision, which the taught model keeps

    def measure(self, model: keras.Model, mnist: float | None = None) -> dict[str, float]:
        """The model's figures; ``mnist``: its MNIST test accuracy when already known."""
        from digits.predict import make_predictor

        probabilities = make_predictor(model)
        figures = {"yours": accuracy(probabilities, self.yours.images, self.yours.labels),
                   "mnist": accuracy(probabilities, *self.mnist) if mnist is None else mnist}
        if self.other_people is not None:
            figures["other_people"] = share_read_right(probabilities, self.other_people, self.decision)
        return figures


def model_from_bytes(model_file: bytes) -> keras.Model:
    """A model from the bytes of a .keras file (store.model_file_bytes), loaded in safe mode."""
    import tempfile

    import keras

    from digits.store import MODEL_FILE

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / MODEL_FILE
        path.write_bytes(model_file)
        return keras.saving.load_model(path, compile=False, safe_mode=True)


@dataclass(frozen=True)
class TeachTask:
    """A job's task (digits/background/jobs.py): teach a copy of a model one person's drawings, measure before and
    after, and return the new model as bytes with its run record. Everything it needs travels with it (the model
    file, the prepared drawings), so it runs wherever the engine puts it."""

    name: str
    hp: Hyperparameters  # the source model's, shown while it runs
    load_data: Callable[[], Mnist]
    source: RunRecord
    model_file: bytes
    drawings: Drawings
    drawn: tuple[DrawnDigit, ...] = ()  # pen-drawn digits by other people (see replay_and_yardstick)
    settings: TeachSettings = TeachSettings()
    resume: Resume | None = None  # where to carry on from, after the teaching's process or server was lost

    def run(self, report: Callable[[TaskMessage], None], stop_event: threading.Event) -> TaskResult:
        from digits.background.jobs import JobStatus
        from digits.background.tasks import starting_metrics, train_reporting, trained_result

        started = time.perf_counter()
        data = self.load_data()
        model = model_from_bytes(self.model_file)
        taught, held_out = split_held_out(self.drawings, self.settings.seed)
        replay_drawn, other_people = split_by_writer(list(self.drawn))
        if not learned_from_drawn(self.source):
            replay_drawn = []
        other_sample = render_sample([digit.strokes for digit in other_people],
                                     [digit.label for digit in other_people]) if other_people else None
        yardsticks = Yardsticks(held_out or taught, held_out is not None, (data.x_test, data.y_test), other_sample,
                                model_decision(model, self.source.not_a_digit))
        lesson = prepare_lesson(model, taught, replay_digits(data, replay_drawn, self.settings.seed), self.settings)
        known = self.source.test.get("count") == len(data.y_test)  # tested on these very digits: no need again
        before = yardsticks.measure(model, self.source.test_accuracy if known else None)
        resume = self.resume.checked(data.fingerprint) if self.resume else None
        metrics = starting_metrics(resume, lambda: new_teach_metrics(self.settings, lesson))
        outcome = train_reporting(report, metrics, lambda lock, callbacks: teach(
            model, lesson, self.settings, metrics, lock, stop_event, callbacks, resume), data)
        if outcome.status == JobStatus.DIVERGED:
            return trained_result(outcome)
        test = evaluate(outcome.model, data.x_test, data.y_test)
        taught_before = resume.checkpoint.metrics.elapsed_seconds if resume else 0.0  # before it was carried on
        record = new_run_record(name=self.name, hp=self.hp, history=metrics.history(), test=test.summary(),
                                seconds=time.perf_counter() - started + taught_before, data=data, status=outcome.status,
                                compute_dtype=model_compute_dtype(outcome.model))
        # The decision on "not a digit" stays the source's: an 11th output is taught along; a threshold carries over.
        record = replace(record, drawn=self.source.drawn, not_a_digit=self.source.not_a_digit, taught={
            "from": self.source.name, "drawings": len(self.drawings), "taught_on": len(taught),
            "measured_on": len(yardsticks.yours), "held_out": yardsticks.held_out,
            "counts": self.drawings.counts(), "styles": {str(digit): style for digit, style in lesson.styles.items()},
            "replayed_drawn": len(replay_drawn), "before": before,
            "after": yardsticks.measure(outcome.model, test.accuracy),
        })
        return trained_result(outcome, record, test, data)


def teach_task(store: ModelStore, source: str, drawings: Drawings, load_data: Callable[[], Mnist],
               drawn: Sequence[DrawnDigit] = (), name: str | None = None,
               settings: TeachSettings = TeachSettings()) -> TeachTask:
    """The task that teaches saved run ``source`` the ``drawings`` (TeachError when too few; StoreError when
    the run cannot be loaded), to be saved as ``name`` (default: ``<source>-taught-<n>``)."""
    from digits.store import model_file_bytes

    check_enough(drawings)
    record = store.record(source)
    return TeachTask(name=name or taught_name(store, source), hp=record.hp, load_data=load_data, source=record,
                     model_file=model_file_bytes(store.load(source)), drawings=drawings, drawn=tuple(drawn),
                     settings=settings)
