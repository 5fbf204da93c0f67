"""Things that are not digits (pen-written letters, doodles), drawn on the canvas as people draw, to teach a model
"not a digit" and to measure how often it says so, and how often it wrongly says so of real digits.

Every drawing goes through the Draw page's own path (digits/drawn_sets.py): strokes rendered anywhere on the
canvas at 35-85% of its size, then preprocess_canvas, which may cut a drawing into several parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from digits.data import NUM_CLASSES, Mnist
from digits.drawn_sets import DrawnSample, Strokes, draw_anywhere, read_right, read_sample, rejected
from digits.predict import (
    NOT_A_DIGIT,
    Decision,
    ProbabilityFunction,
    Reading,
    calibrate_threshold,
    is_digit,
    make_predictor,
    model_decision,
)
from digits.preprocess import PEN_WIDTH
from digits.unipen import Stroke, fit_to_square

if TYPE_CHECKING:
    import keras

PEN_WIDTHS = (PEN_WIDTH * 0.6, PEN_WIDTH * 1.5)  # people draw at other sizes than the canvas's pen suits
VARIED_TURN_DEGREES = 20.0  # varied_strokes: how far a drawing may be turned either way
VARIED_STRETCH = 1.35  # ... and stretched wider or taller by up to this factor


def calibrate_on_validation(model: keras.Model, data: Mnist, validation_split: float,
                            pass_share: float = 0.99) -> Decision:
    """The decision for a freshly trained model: ``pass_share`` of its run's validation digits pass, read as
    drawings are (make_predictor). With no validation digits (a split of 0) nothing can be calibrated, and the
    model never says "not a digit"."""
    from digits.training import validation_images

    x_validation = validation_images(data, validation_split)
    if not len(x_validation):
        return model_decision(model)
    return calibrate_threshold(make_predictor(model)(x_validation), pass_share)


def varied_strokes(strokes: Strokes, rng: np.random.Generator) -> tuple[Stroke, ...]:
    """The drawing as another person might draw the same thing: mirrored or not, turned, stretched. Only for
    what is not a digit: a mirrored or turned digit may be another digit, or none."""
    every = np.concatenate([np.asarray(stroke, dtype=float) for stroke in strokes])
    centre = (every.min(axis=0) + every.max(axis=0)) / 2
    angle = np.radians(rng.uniform(-VARIED_TURN_DEGREES, VARIED_TURN_DEGREES))
    stretch = np.exp(rng.uniform(-1, 1) * np.log(VARIED_STRETCH))
    mirror = -1.0 if rng.random() < 0.5 else 1.0
    transform = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag(
        [mirror * stretch, 1 / stretch])
    return fit_to_square([(np.asarray(stroke, dtype=float) - centre) @ transform.T for stroke in strokes])


def training_images(drawings: Sequence[Strokes], copies: int, seed: int,
                    pen_widths: tuple[float, float] = (PEN_WIDTH, PEN_WIDTH), *, vary: bool = False) -> np.ndarray:
    """Each drawing rendered ``copies`` times at random places, sizes and pen widths (and, with ``vary``, turned,
    stretched and mirrored: varied_strokes), as (N, 28, 28) uint8.

    Only renderings read as one part are kept: the parts of a drawing cut in pieces (a lone stroke of it)
    may look like a digit, and must not be taught as "not a digit"."""
    rng = np.random.default_rng(seed)
    images = []
    for strokes in drawings:
        for _ in range(copies):
            drawn = varied_strokes(strokes, rng) if vary else strokes
            parts = draw_anywhere(drawn, rng, float(rng.uniform(*pen_widths)))
            if len(parts) == 1:
                images.append(parts[0])
    return np.array(images, dtype=np.uint8).reshape(-1, 28, 28)


# A run trained on the Train page with "Learn what is not a digit": 100 doodles of each training kind, each drawn
# twice (other places, sizes and pens), about a tenth of MNIST's training digits; rendering them takes seconds.
RUN_DOODLES_PER_KIND = 100
RUN_DOODLE_RENDERINGS = 2


RUN_REAL_DOODLE_RENDERINGS = 6  # each shipped real doodle (a few hundred): turned, stretched, mirrored, anywhere


def not_a_digit_examples(seed: int, per_kind: int = RUN_DOODLES_PER_KIND, copies: int = RUN_DOODLE_RENDERINGS,
                         real: Sequence[Strokes] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images, labels) of program-made doodles of the training kinds and of real people's doodles
    (``real``; default: the shipped Quick, Draw! doodles of the training kinds), labelled NOT_A_DIGIT, as the
    canvas sends them. The held-out kinds stay out, so the Evaluate page still measures the run on kinds it
    never saw."""
    from digits.doodles import TRAINING_KINDS, make_doodles
    from digits.quickdraw import load_doodles, split_by_kind

    if real is None:
        real = [doodle.strokes for doodle in split_by_kind(load_doodles())[0]]
    doodles = make_doodles(TRAINING_KINDS, per_kind, seed)
    images = np.concatenate([
        training_images([doodle.strokes for doodle in doodles], copies, seed + 1, PEN_WIDTHS),
        training_images(real, RUN_REAL_DOODLE_RENDERINGS, seed + 2, PEN_WIDTHS, vary=True),
    ])
    return images, np.full(len(images), NOT_A_DIGIT, np.uint8)


def right_counting_rejections(probabilities: np.ndarray, labels: np.ndarray, decision: Decision) -> np.ndarray:
    """Per image of one digit (e.g. MNIST's test set): read as its label *and* taken for a digit."""
    probabilities = np.asarray(probabilities)
    return (probabilities[:, :NUM_CLASSES].argmax(axis=1) == labels) & is_digit(probabilities, decision)


@dataclass(frozen=True)
class NonDigitScores:
    """How well a model tells digits from the rest, each a share of its drawings."""

    digits_right: float  # pen-drawn digits read right (a rejection counts as wrong)
    digits_rejected: float  # pen-drawn digits wrongly taken for "not a digit"
    letters_rejected: float
    doodles_rejected: float  # program-made doodles (digits/doodles.py)
    real_doodles_rejected: float | None  # real people's doodles (Quick, Draw!); None: none measured
    counts: dict[str, int]

    def to_dict(self) -> dict[str, object]:
        return {"digits_right": self.digits_right, "digits_rejected": self.digits_rejected,
                "letters_rejected": self.letters_rejected, "doodles_rejected": self.doodles_rejected,
                "real_doodles_rejected": self.real_doodles_rejected, "counts": self.counts}


def score_samples(probabilities: ProbabilityFunction, decision: Decision, digits: DrawnSample,
                  letters: DrawnSample, doodles: DrawnSample, real_doodles: DrawnSample | None = None
                  ) -> NonDigitScores:
    digit_readings = read_sample(probabilities, digits, decision)
    counts = {"digits": len(digits.labels), "letters": len(letters.labels), "doodles": len(doodles.labels)}
    if real_doodles is not None:
        counts["real_doodles"] = len(real_doodles.labels)
    return NonDigitScores(
        digits_right=float(read_right(digit_readings, digits.labels).mean()),
        digits_rejected=float(rejected(digit_readings).mean()),
        letters_rejected=float(rejected(read_sample(probabilities, letters, decision)).mean()),
        doodles_rejected=float(rejected(read_sample(probabilities, doodles, decision)).mean()),
        real_doodles_rejected=(None if real_doodles is None else
                               float(rejected(read_sample(probabilities, real_doodles, decision)).mean())),
        counts=counts,
    )


def rejected_by_label(probabilities: ProbabilityFunction, sample: DrawnSample,
                      decision: Decision) -> dict[str, float]:
    """Each label's share rejected (e.g. per kind of doodle: a mean over kinds can hide one that fools it)."""
    return shares_by_label(rejected(read_sample(probabilities, sample, decision)), sample.labels)


def shares_by_label(chosen: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    """Per label, the share of its drawings ``chosen`` (one bool per drawing), labels in alphabetical order."""
    labels_array = np.array(labels)
    return {label: float(chosen[labels_array == label].mean()) for label in sorted(set(labels))}


@dataclass(frozen=True)
class FoolingKind:
    """A kind of doodle the model takes for a digit: how often, and which of its drawings it took."""

    kind: str
    taken_for_digits: float  # the share of this kind's drawings read as a digit or a number
    drawings: tuple[int, ...]  # indices (in the sample) of the drawings it took for digits


def kinds_that_fool(sample: DrawnSample, readings: Sequence[Reading | None], most: int) -> list[FoolingKind]:
    """The ``most`` kinds most often taken for digits (the worst first; ties by name), kinds never taken left out."""
    accepted = ~rejected(readings)
    shares = shares_by_label(accepted, sample.labels)
    worst = sorted((kind for kind, share in shares.items() if share > 0), key=lambda kind: (-shares[kind], kind))
    return [FoolingKind(kind, shares[kind], tuple(int(i) for i in np.flatnonzero(accepted)
                                                   if sample.labels[i] == kind)) for kind in worst[:most]]
