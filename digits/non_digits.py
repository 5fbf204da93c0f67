"""Things that are not digits (pen-written letters, doodles), drawn on the canvas as people draw, to teach a model
"not a digit" and to measure how often it says so, and how often it wrongly says so of real digits.

Every drawing goes through the Draw page's own path: strokes rendered anywhere on the canvas at 35-85% of
its size, then preprocess_canvas, which may cut a drawing into several parts. A drawing counts as
*rejected* when the reading is not a digit or a number (a part is not a digit, or no ink was found); a
digit counts as *read right* only when it is read as exactly that one digit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from digits.data import NUM_CLASSES, Mnist
from digits.predict import (
    NOT_A_DIGIT,
    Decision,
    Outcome,
    ProbabilityFunction,
    Reading,
    calibrate_threshold,
    is_digit,
    model_decision,
    outcome_of,
    to_predictions,
)
from digits.preprocess import PEN_WIDTH, preprocess_canvas
from digits.unipen import Stroke, random_box, render_strokes

if TYPE_CHECKING:
    import keras

Strokes = Sequence[Stroke]
PEN_WIDTHS = (PEN_WIDTH * 0.6, PEN_WIDTH * 1.5)  # people draw at other sizes than the canvas's pen suits


def calibrate_on_validation(model: keras.Model, data: Mnist, validation_split: float,
                            pass_share: float = 0.99) -> Decision:
    """The decision for a freshly trained model: ``pass_share`` of its run's validation digits pass. With no
    validation digits (a split of 0) nothing can be calibrated, and the model never says "not a digit"."""
    from digits.evaluation import predict_probabilities
    from digits.training import split_validation

    x_validation = split_validation(data, validation_split)[2]
    if not len(x_validation):
        return model_decision(model)
    return calibrate_threshold(predict_probabilities(model, x_validation), pass_share)


def draw_anywhere(strokes: Strokes, rng: np.random.Generator, pen_width: float = PEN_WIDTH) -> list[np.ndarray]:
    """The 28x28 parts the Draw page would read if a person drew ``strokes`` somewhere on the canvas."""
    return preprocess_canvas(render_strokes(strokes, pen_width=pen_width, box=random_box(rng)))


def training_images(drawings: Sequence[Strokes], copies: int, seed: int,
                    pen_widths: tuple[float, float] = (PEN_WIDTH, PEN_WIDTH)) -> np.ndarray:
    """Each drawing rendered ``copies`` times at random places, sizes and pen widths, as (N, 28, 28) uint8.

    Only renderings read as one part are kept: the parts of a drawing cut in pieces (a lone stroke of it)
    may look like a digit, and must not be taught as "not a digit"."""
    rng = np.random.default_rng(seed)
    images = []
    for strokes in drawings:
        for _ in range(copies):
            parts = draw_anywhere(strokes, rng, float(rng.uniform(*pen_widths)))
            if len(parts) == 1:
                images.append(parts[0])
    return np.array(images, dtype=np.uint8).reshape(-1, 28, 28)


# A run trained on the Train page with "Learn what is not a digit": 100 doodles of each training kind, each drawn
# twice (other places, sizes and pens), about a tenth of MNIST's training digits; rendering them takes seconds.
RUN_DOODLES_PER_KIND = 100
RUN_DOODLE_RENDERINGS = 2


def not_a_digit_examples(seed: int, per_kind: int = RUN_DOODLES_PER_KIND,
                         copies: int = RUN_DOODLE_RENDERINGS) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images, labels) of doodles of the training kinds, labelled NOT_A_DIGIT, as the canvas sends them.
    The held-out kinds stay out, so the Evaluate page still measures the run on kinds it never saw."""
    from digits.doodles import TRAINING_KINDS, make_doodles

    doodles = make_doodles(TRAINING_KINDS, per_kind, seed)
    images = training_images([doodle.strokes for doodle in doodles], copies, seed + 1, PEN_WIDTHS)
    return images, np.full(len(images), NOT_A_DIGIT, np.uint8)


@dataclass(frozen=True)
class DrawnSample:
    """Drawings as the Draw page reads them: the parts of each, and what each drawing was."""

    labels: tuple[str, ...]  # a digit, a letter, or a kind of doodle
    parts: tuple[tuple[np.ndarray, ...], ...]  # per drawing, its 28x28 parts left to right (none: no ink found)


def render_sample(drawings: Sequence[Strokes], labels: Sequence[object], seed: int = 0) -> DrawnSample:
    """Each drawing drawn once anywhere on the canvas with the canvas's pen (fixed seed: the same for every model)."""
    rng = np.random.default_rng(seed)
    return DrawnSample(tuple(str(label) for label in labels),
                       tuple(tuple(draw_anywhere(strokes, rng)) for strokes in drawings))


def read_sample(probabilities: ProbabilityFunction, sample: DrawnSample, decision: Decision) -> list[Reading | None]:
    """Every drawing's reading, all parts in one batch (None: no ink found)."""
    every_part = [part for parts in sample.parts for part in parts]
    if not every_part:
        return [None] * len(sample.parts)
    predictions = to_predictions(probabilities(np.stack(every_part)), decision)
    readings: list[Reading | None] = []
    start = 0
    for parts in sample.parts:
        readings.append(Reading(tuple(predictions[start:start + len(parts)])) if parts else None)
        start += len(parts)
    return readings


def right_counting_rejections(probabilities: np.ndarray, labels: np.ndarray, decision: Decision) -> np.ndarray:
    """Per image of one digit (e.g. MNIST's test set): read as its label *and* taken for a digit."""
    probabilities = np.asarray(probabilities)
    return (probabilities[:, :NUM_CLASSES].argmax(axis=1) == labels) & is_digit(probabilities, decision)


def rejected(readings: Sequence[Reading | None]) -> np.ndarray:
    """Per drawing: not read as a digit or a number."""
    return np.array([outcome_of(reading) is not Outcome.DIGIT for reading in readings], dtype=bool)


def read_right(readings: Sequence[Reading | None], labels: Sequence[str]) -> np.ndarray:
    """Per drawing: read as exactly its label (a rejection or a wrong digit is wrong)."""
    return np.array([reading is not None and reading.number == label for reading, label in zip(readings, labels,
                                                                                                 strict=True)])


@dataclass(frozen=True)
class NonDigitScores:
    """The three figures of issue 10, each a share of its drawings, and the rejected MNIST test digits."""

    digits_right: float  # pen-drawn digits read right (a rejection counts as wrong)
    digits_rejected: float  # pen-drawn digits wrongly taken for "not a digit"
    letters_rejected: float
    doodles_rejected: float
    counts: dict[str, int]

    def to_dict(self) -> dict[str, object]:
        return {"digits_right": self.digits_right, "digits_rejected": self.digits_rejected,
                "letters_rejected": self.letters_rejected, "doodles_rejected": self.doodles_rejected,
                "counts": self.counts}


def score_samples(probabilities: ProbabilityFunction, decision: Decision, digits: DrawnSample,
                  letters: DrawnSample, doodles: DrawnSample) -> NonDigitScores:
    digit_readings = read_sample(probabilities, digits, decision)
    return NonDigitScores(
        digits_right=float(read_right(digit_readings, digits.labels).mean()),
        digits_rejected=float(rejected(digit_readings).mean()),
        letters_rejected=float(rejected(read_sample(probabilities, letters, decision)).mean()),
        doodles_rejected=float(rejected(read_sample(probabilities, doodles, decision)).mean()),
        counts={"digits": len(digits.labels), "letters": len(letters.labels), "doodles": len(doodles.labels)},
    )
