"""Read digits with a trained model, fast enough to run after every stroke, and say when a drawing is not one.

Every reading has one of three outcomes: digits (one, or a number of several), *not a digit* (a
star, a face, a letter: at least one part does not look like a digit), or *no ink* (nothing drawn).
A model decides "not a digit" in one of two ways (a ``Decision``): by an 11th output trained on
things that are not digits, or, for a model with only the 10 digit outputs, by a threshold on its
highest probability. Either way the level is calibrated on digits the model never trained on: for a
model trained on the Train page, its run's validation digits, 99% of which pass.

Every image is read as a drawing is, in five looks (``looks``), the readings combined: the figures the
decision is calibrated on and measured by are read that way too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from digits.data import IMAGE_SIZE, NUM_CLASSES, normalise

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

ProbabilityFunction = Callable[[np.ndarray], np.ndarray]
NOT_A_DIGIT = NUM_CLASSES  # the index of the optional 11th output, "not a digit" (also its training label)
OUTPUT_THRESHOLD = 0.5  # with that output: a digit when the outputs 0..9 together get at least half
UNKNOWN_PART = "?"  # how a part that is not a digit shows in a number
LOOKS = 5  # each drawing is read as drawn, thicker, thinner and turned either way (make_predictor)
LOOK_TURN_DEGREES = 10.0
READ_BATCH = 256  # images read at once: five looks of each through a CNN hold about 130 MB


class Outcome(StrEnum):
    DIGIT = "digit"  # one digit, or a number: every part is a digit
    NOT_A_DIGIT = "not a digit"
    NO_INK = "no ink"


@dataclass(frozen=True)
class Decision:
    """How a model tells a digit from something that is not one.

    ``method`` "output": the model has an 11th output; the score is 1 - its probability. "threshold":
    the score is the highest digit probability. Either way a part is a digit when score >= threshold;
    a threshold of 0 never rejects (models saved before this existed, with nothing calibrated)."""

    method: Literal["output", "threshold"]
    threshold: float

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "threshold": self.threshold}

    @classmethod
    def for_model(cls, outputs: int, saved: dict[str, Any] | None = None) -> Decision:
        """The decision saved in a run record (its ``not_a_digit`` field), else the natural one for a model
        with ``outputs`` outputs."""
        method = "output" if outputs > NUM_CLASSES else "threshold"
        if saved and saved.get("method") == method and isinstance(saved.get("threshold"), int | float):
            return cls(method, float(saved["threshold"]))
        return cls(method, OUTPUT_THRESHOLD if method == "output" else 0.0)

    @property
    def description(self) -> str:
        if self.method == "output":
            return ("It learned what is not a digit: it has an output of its own for \"not a digit\", trained on "
                    "drawings that are not digits, and says so when that output gets more than "
                    f"{1 - self.threshold:.0%} of its belief: a level almost no real digit reaches (calibrated on "
                    "digits it never trained on).")
        if self.threshold <= 0:
            return ("It never says \"not a digit\": nothing was calibrated for it (saved before that existed, or "
                    "trained without validation digits), so it always guesses a digit.")
        return (f"It says \"not a digit\" when it is less than {self.threshold:.1%} sure of any digit: the level "
                "that 99% of the digits it was checked on while training reach.")


def digit_scores(probabilities: np.ndarray) -> np.ndarray:
    """How much each row looks like a digit, 0..1: 1 minus the 11th output, or the highest digit probability."""
    probabilities = np.atleast_2d(probabilities)
    if probabilities.shape[1] > NUM_CLASSES:
        return 1.0 - probabilities[:, NOT_A_DIGIT]
    return probabilities.max(axis=1)


def is_digit(probabilities: np.ndarray, decision: Decision) -> np.ndarray:
    """One bool per row: does the model take it for a digit?"""
    return digit_scores(probabilities) >= decision.threshold


def calibrate_threshold(validation_probabilities: np.ndarray, pass_share: float = 0.99) -> Decision:
    """A decision for a model's validation digits such that ``pass_share`` of them count as digits (by its
    11th output when it has one, else by its highest probability)."""
    probabilities = np.atleast_2d(validation_probabilities)
    method: Literal["output", "threshold"] = "output" if probabilities.shape[1] > NUM_CLASSES else "threshold"
    # The highest threshold that lets ``pass_share`` through: the least sure digits beyond that share fail.
    scores = np.sort(digit_scores(probabilities))
    return Decision(method, float(scores[int(len(scores) * (1 - pass_share))]))


def model_decision(model: keras.Model, saved: dict[str, Any] | None = None) -> Decision:
    """The decision for a loaded model and what its run record saved (RunRecord.not_a_digit)."""
    return Decision.for_model(int(model.output_shape[-1]), saved)


@dataclass(frozen=True)
class Prediction:
    digit: int  # the closest digit, even when the part is not taken for one
    confidence: float  # the probability of that digit among the digits
    probabilities: tuple[float, ...]  # one per digit 0..9, summing to 1: which digit, if it is one
    is_digit: bool = True
    digit_score: float = 1.0  # how much it looks like a digit (Decision says how it is measured)

    @property
    def text(self) -> str:
        return str(self.digit) if self.is_digit else UNKNOWN_PART

    def to_dict(self) -> dict[str, object]:
        return {"digit": self.digit, "confidence": self.confidence, "probabilities": list(self.probabilities),
                "is_digit": self.is_digit, "digit_score": self.digit_score}


def make_predictor(model: keras.Model) -> ProbabilityFunction:
    """A function from (N, 28, 28) images (uint8, or floats in 0..1) to (N, 10) or (N, 11) probabilities: each
    image read as a drawing is, in LOOKS looks (see ``looks``), the readings combined by their geometric mean.

    Compiled once with a fixed signature: ``model.predict`` sets up a whole input pipeline on
    every call (about 40 ms here), far too slow for one drawing at a time.
    """
    import keras
    import tensorflow as tf

    def read(x: tf.Tensor) -> tf.Tensor:
        every_look = model(looks(x), training=False)
        logs = keras.ops.log(keras.ops.clip(keras.ops.cast(every_look, "float32"), 1e-9, 1.0))
        combined = keras.ops.exp(keras.ops.mean(keras.ops.reshape(logs, (LOOKS, -1, every_look.shape[-1])), axis=0))
        return combined / keras.ops.sum(combined, axis=-1, keepdims=True)

    compiled = tf.function(read, input_signature=[tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32)])

    def probabilities(images: np.ndarray) -> np.ndarray:
        x = model_input(images)
        return np.concatenate([compiled(x[start:start + READ_BATCH]).numpy()
                               for start in range(0, max(len(x), 1), READ_BATCH)])

    return probabilities


def looks(images: tf.Tensor) -> tf.Tensor:
    """(N, 28, 28) -> (LOOKS * N, 28, 28): the images as they are, their ink a little thicker and a little
    thinner (half way to a 3x3 maximum and minimum), and turned LOOK_TURN_DEGREES either way.

    A second look, as a person takes one: a doodle that resembles a digit only exactly as drawn (a stick, a
    ring, two loops) loses that resemblance in the other looks, while a real digit keeps it, and a digit
    misread as drawn is mostly read right in the others (benchmarks/not_a_digit.py measures it)."""
    import keras

    x = images[..., None]
    thicker = 0.5 * x + 0.5 * keras.ops.max_pool(x, 3, strides=1, padding="same")
    thinner = 0.5 * x - 0.5 * keras.ops.max_pool(-x, 3, strides=1, padding="same")
    turned = [keras.ops.image.affine_transform(x, _turn(degrees), interpolation="bilinear", fill_mode="constant")
              for degrees in (LOOK_TURN_DEGREES, -LOOK_TURN_DEGREES)]
    return keras.ops.concatenate([x, thicker, thinner, *turned], axis=0)[..., 0]


def _turn(degrees: float) -> np.ndarray:
    """The projective transform (as ``keras.ops.image.affine_transform`` takes it) that turns a 28x28 image
    about its centre."""
    angle, centre = np.deg2rad(degrees), (IMAGE_SIZE - 1) / 2
    cos, sin = np.cos(angle), np.sin(angle)
    return np.array([cos, -sin, centre - cos * centre + sin * centre,
                     sin, cos, centre - sin * centre - cos * centre, 0.0, 0.0], dtype=np.float32)


def model_input(images: np.ndarray) -> np.ndarray:
    """One 28x28 image or a batch of them (uint8, or floats in 0..1) as the (N, 28, 28) floats a model takes."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected 28x28 images; got shape {images.shape}")
    return normalise(images) if images.dtype == np.uint8 else images.astype(np.float32)


def to_predictions(probabilities: np.ndarray, decision: Decision | None = None) -> list[Prediction]:
    """Predictions from (N, 10) or (N, 11) outputs; ``decision`` defaults to the natural one for their width."""
    probabilities = np.atleast_2d(np.asarray(probabilities, dtype=np.float64))
    decision = decision or Decision.for_model(probabilities.shape[1])
    scores = digit_scores(probabilities)
    digit_part = probabilities[:, :NUM_CLASSES]
    digit_part = digit_part / np.maximum(digit_part.sum(axis=1, keepdims=True), 1e-12)
    return [
        Prediction(int(row.argmax()), float(row.max()), tuple(float(p) for p in row),
                   is_digit=bool(score >= decision.threshold), digit_score=float(score))
        for row, score in zip(digit_part, scores, strict=True)
    ]


@dataclass(frozen=True)
class Reading:
    """What the model read on a drawing: one prediction per part, left to right."""

    predictions: tuple[Prediction, ...]

    @property
    def outcome(self) -> Outcome:
        if not self.predictions:
            return Outcome.NO_INK
        return Outcome.DIGIT if all(p.is_digit for p in self.predictions) else Outcome.NOT_A_DIGIT

    @property
    def text(self) -> str:
        """The digits read, "?" for a part that is not a digit: "7", "2026", "4?"."""
        return "".join(prediction.text for prediction in self.predictions)

    @property
    def number(self) -> str | None:
        """The digits read when every part is a digit, else None."""
        return self.text if self.outcome is Outcome.DIGIT else None

    @property
    def answer(self) -> str:
        """The number read, or "not a digit" (as a person answers, digits.feedback.NOT_A_DIGIT_ANSWER)."""
        return self.number if self.number is not None else Outcome.NOT_A_DIGIT.value

    @property
    def closest(self) -> str:
        """The closest digits, even for parts not taken for digits."""
        return "".join(str(prediction.digit) for prediction in self.predictions)

    @property
    def confidence(self) -> float:
        """The model's own chance that every digit is right (the product of each digit's)."""
        return float(np.prod([prediction.confidence for prediction in self.predictions]))


def read_digits(probabilities: ProbabilityFunction, images: list[np.ndarray],
                decision: Decision | None = None) -> Reading | None:
    """Read preprocessed 28x28 part images in one batch; None when there is no ink at all.

    ``decision``: how to tell digits from the rest (default: the natural one for the model's outputs)."""
    if not images:
        return None
    return Reading(tuple(to_predictions(probabilities(np.stack(images)), decision)))


def outcome_of(reading: Reading | None) -> Outcome:
    """The reading's outcome, with no reading at all (nothing drawn) as NO_INK."""
    return Outcome.NO_INK if reading is None else reading.outcome
