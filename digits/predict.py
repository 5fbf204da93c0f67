"""Read digits with a trained model, fast enough to run after every stroke."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from digits.data import IMAGE_SIZE, normalise

if TYPE_CHECKING:
    import keras

ProbabilityFunction = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Prediction:
    digit: int
    confidence: float
    probabilities: tuple[float, ...]  # one per digit 0..9

    def to_dict(self) -> dict[str, object]:
        return {"digit": self.digit, "confidence": self.confidence, "probabilities": list(self.probabilities)}


def make_predictor(model: keras.Model) -> ProbabilityFunction:
    """A function from (N, 28, 28) images (uint8, or floats in 0..1) to (N, 10) probabilities.

    Compiled once with a fixed signature: ``model.predict`` sets up a whole input pipeline on
    every call (about 40 ms here), far too slow for one drawing at a time.
    """
    import tensorflow as tf

    compiled = tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32)],
    )

    def probabilities(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[np.newaxis]
        if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"expected 28x28 images; got shape {images.shape}")
        x = normalise(images) if images.dtype == np.uint8 else images.astype(np.float32)
        return compiled(x).numpy()

    return probabilities


def to_predictions(probabilities: np.ndarray) -> list[Prediction]:
    return [
        Prediction(int(row.argmax()), float(row.max()), tuple(float(p) for p in row))
        for row in np.asarray(probabilities)
    ]


@dataclass(frozen=True)
class Reading:
    """What the model read on a drawing: one prediction per digit, left to right."""

    predictions: tuple[Prediction, ...]

    @property
    def text(self) -> str:
        return "".join(str(prediction.digit) for prediction in self.predictions)

    @property
    def confidence(self) -> float:
        """The model's own chance that every digit is right (the product of each digit's)."""
        return float(np.prod([prediction.confidence for prediction in self.predictions]))


def read_digits(probabilities: ProbabilityFunction, images: list[np.ndarray]) -> Reading | None:
    """Read preprocessed 28x28 digit images in one batch; None when there is no digit at all."""
    if not images:
        return None
    return Reading(tuple(to_predictions(probabilities(np.stack(images)))))
