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
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from digits.data import IMAGE_SIZE, Mnist, normalise
from digits.preprocess import preprocess_canvas
from digits.training import Metrics, make_recorder

if TYPE_CHECKING:
    import keras

    from digits.drawn import DrawnDigit
    from digits.store import ModelStore, RunRecord

MIN_DRAWINGS = 10  # fewer teach nothing that lasts, and say nothing about the person
# Measuring needs drawings the model never learned from: with at least this many of a digit, one of each
# kind in HOLD_OUT_SHARE is kept back from teaching, and "before" and "after" are measured on those.
HOLD_OUT_MIN_PER_DIGIT = 6
HOLD_OUT_SHARE = 0.2
REPLAY_MNIST = 6000  # MNIST training digits replayed per teaching
REPLAY_DRAWN_COPIES = 2  # renderings of each replayed pen-drawn digit
AMBIGUOUS = 0.9  # a digit changed into the person's style that the model reads as another this surely is left out
_TAUGHT_SUFFIX = re.compile(r"-taught-\d+$")


class TeachError(ValueError):
    """The drawings cannot be used to teach; the message says which and why."""


@dataclass(frozen=True)
class TeachSettings:
    """How a model is taught. The defaults were chosen by measurement (benchmarks/teach.py)."""

    learning_rate: float = 1e-3
    epochs: int = 6
    copies: int = 24  # randomly varied copies of each drawing per epoch
    batch_size: int = 64
    learn: str = "head"  # "all" layers, or "head": only the dense layers after the convolutions
    styled_per_digit: int = 300  # replayed digits changed into the person's style, per styled digit (0: none)
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


@dataclass
class TeachOutcome:
    model: keras.Model
    status: str  # "finished", "stopped" or "diverged"
    seconds: float
    styles: dict[int, str]  # digits the person writes as a simple change of everyone's: mirrored, slanted...


def teaching_set(
    model: keras.Model, drawings: Drawings, replay: tuple[np.ndarray, np.ndarray], settings: TeachSettings
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Images, soft targets and the styles found: each drawing ``copies`` times with its label; replayed
    digits changed into the person's style (digits/styles.py) with their labels; the replayed digits as they
    are with the model's own answers (where the model got one wrong, its label instead)."""
    from digits.evaluation import predict_probabilities
    from digits.predict import make_predictor
    from digits.styles import infer_styles, styled_examples

    outputs = model.output_shape[-1]
    replay_images, replay_labels = replay
    styles = infer_styles(make_predictor(model), drawings.images, drawings.labels) \
        if settings.styled_per_digit else {}
    styled_images, styled_labels = styled_examples(replay_images, replay_labels, styles, settings.styled_per_digit,
                                                   settings.seed)
    if len(styled_labels):
        # A changed digit that the model already reads as another digit (a mirrored 5 can look like someone's
        # 2) would teach it to misread that other digit: leave those out.
        taken = predict_probabilities(model, styled_images)
        others = taken.copy()
        others[np.arange(len(styled_labels)), styled_labels] = 0
        clear = others.max(axis=1) < AMBIGUOUS
        styled_images, styled_labels = styled_images[clear], styled_labels[clear]
    old = predict_probabilities(model, replay_images)
    wrong = old.argmax(axis=1) != replay_labels
    old[wrong] = np.eye(outputs, dtype=old.dtype)[replay_labels[wrong]]
    yours = np.eye(outputs, dtype=np.float32)[np.concatenate([np.repeat(drawings.labels, settings.copies),
                                                               styled_labels])]
    images = np.concatenate([np.repeat(drawings.images, settings.copies, axis=0), styled_images, replay_images])
    return normalise(images), np.concatenate([yours, old.astype(np.float32)]), styles


def new_teach_metrics(settings: TeachSettings, examples: int) -> Metrics:
    steps = math.ceil(examples / settings.batch_size)
    return Metrics(epochs=settings.epochs, steps_per_epoch=steps, total_examples=examples * settings.epochs)


def teach(
    model: keras.Model,
    drawings: Drawings,
    replay: tuple[np.ndarray, np.ndarray],
    settings: TeachSettings = TeachSettings(),
    metrics: Metrics | None = None,
    lock: threading.Lock | None = None,
    stop_event: threading.Event | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TeachOutcome:
    """Fine-tune a copy of ``model`` on ``drawings`` and ``replay`` (see teaching_set), in this thread,
    recording into ``metrics`` (make it with new_teach_metrics(settings, teaching_size(...)))."""
    import keras

    from digits.augment import augmented_dataset

    if len(drawings) == 0:
        raise TeachError("There are no drawings to teach.")
    x, targets, styles = teaching_set(model, drawings, replay, settings)
    metrics = metrics or new_teach_metrics(settings, len(x))
    stop_event = stop_event or threading.Event()
    recorder = make_recorder(metrics, lock or threading.Lock(), stop_event, settings.batch_size)
    keras.utils.set_random_seed(settings.seed)
    student = copy_model(model)
    _choose_learners(student, settings.learn)
    schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate, settings.epochs * metrics.steps_per_epoch)
    student.compile(optimizer=keras.optimizers.Adam(schedule), loss="categorical_crossentropy",
                    metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    started = time.perf_counter()
    student.fit(augmented_dataset(x, targets, settings.batch_size, settings.seed), epochs=settings.epochs,
                shuffle=False, callbacks=[recorder, *callbacks], verbose=0)
    seconds = time.perf_counter() - started
    for layer in student.layers:
        layer.trainable = True  # saved as an ordinary model
    status = "diverged" if recorder.diverged else "stopped" if stop_event.is_set() else "finished"
    return TeachOutcome(student, status, seconds, styles)


def teaching_size(drawings: Drawings, replay: tuple[np.ndarray, np.ndarray], settings: TeachSettings) -> int:
    """Examples in one epoch of teaching."""
    return len(drawings) * settings.copies + len(replay[1])


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
    """Share read right (over the digit outputs: an 11th "not a digit" answer counts as wrong)."""
    return float((probabilities(images).argmax(axis=1) == labels).mean())


def taught_record(source: RunRecord, name: str, outcome: TeachOutcome, test: dict[str, Any], data: Mnist,
                  taught: dict[str, Any], history: dict[str, list[float]]) -> RunRecord:
    """The new run's record: the source model's settings, what it was taught, its MNIST test figures."""
    from digits.store import new_run_record

    record = new_run_record(name=name, hp=source.hp, history=history, test=test, seconds=outcome.seconds, data=data,
                            status=outcome.status)
    return replace(record, drawn=source.drawn, taught=taught)
