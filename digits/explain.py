"""Why the model gave its answer: which input pixels pushed it toward a digit (saliency).

Integrated gradients (Sundararajan, Taly and Yan, ICML 2017): walk from a black image to the
drawing in SALIENCY_STEPS small steps, and add up, for each pixel, the gradient of the digit's
probability along the way times how much ink the pixel has. The credits of all pixels add up to
how much the probability rose from the black image to the drawing, so the map follows the
model's own computation. A map that merely copies the ink looks just as plausible, so the
method is judged by a deletion test (``deletion_drops``): blanking the pixels a faithful map
ranks highest must lower the model's answer far more than blanking random or the brightest ones.
Measured in benchmarks/explain_faithfulness.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from digits.data import IMAGE_SIZE, NUM_CLASSES
from digits.predict import model_input

if TYPE_CHECKING:
    import keras

    from digits.predict import ProbabilityFunction

SALIENCY_STEPS = 32  # 16 ranks pixels almost as well; 32 costs ~18 ms a drawing here, well inside the 50 ms asked
DELETION_SHARE = 0.15  # the share of a drawing's ink pixels the deletion test blanks

# (N, 28, 28) images (uint8, or floats in 0..1) and N digits -> (N, 28, 28) non-negative saliency.
SaliencyFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def make_saliency(model: keras.Model, steps: int = SALIENCY_STEPS) -> SaliencyFunction:
    """Integrated gradients from a black image, for a chosen digit of each image, in one compiled pass.

    Every image's whole path is one batch through one ``tf.function`` with a fixed signature (as in
    ``digits.predict.make_predictor``), so a drawing costs one forward and one backward pass of
    ``steps`` images. Works for models with 10 outputs or 11 (the 11th, "not a digit", is never
    explained). Returns the positive part: how much each pixel pushed toward the digit.
    """
    import tensorflow as tf

    # Midpoints of the steps: the Riemann sum that converges fastest for smooth paths.
    alphas = tf.constant((np.arange(steps) + 0.5) / steps, dtype=tf.float32)

    @tf.function(input_signature=[tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE), tf.float32),
                                  tf.TensorSpec((None,), tf.int32)])
    def integrated_gradients(images: tf.Tensor, digits: tf.Tensor) -> tf.Tensor:
        count = tf.shape(images)[0]
        path = tf.reshape(alphas[:, None, None, None] * images[None], (-1, IMAGE_SIZE, IMAGE_SIZE))
        with tf.GradientTape() as tape:
            tape.watch(path)
            # The digit's probability among the digits: what made it say 7 rather than another digit. A model
            # with an 11th output also moves along the path from "not a digit" (a black image is none) to a
            # digit, and that rise, shared by every ink pixel alike, swamped which strokes make the 7.
            outputs = model(path, training=False)[:, :NUM_CLASSES]
            among_digits = outputs / tf.reduce_sum(outputs, axis=1, keepdims=True)
            chosen = tf.gather(among_digits, tf.tile(digits, [steps]), batch_dims=1)
        gradients = tf.reshape(tape.gradient(chosen, path), (steps, count, IMAGE_SIZE, IMAGE_SIZE))
        return tf.nn.relu(tf.reduce_mean(gradients, axis=0) * images)

    def saliency(images: np.ndarray, digits: np.ndarray) -> np.ndarray:
        x = model_input(images)
        targets = np.asarray(digits, dtype=np.int32).reshape(-1)
        if len(targets) != len(x):
            raise ValueError(f"expected one digit per image; got {len(targets)} for {len(x)} images")
        if not np.all((targets >= 0) & (targets < NUM_CLASSES)):
            raise ValueError(f"digits to explain must be 0..9; got {targets.tolist()}")
        return integrated_gradients(x, targets).numpy()

    return saliency


def ranked_digits(probabilities: np.ndarray | tuple[float, ...]) -> list[int]:
    """The digits 0-9, the one the model rates highest first (an 11th "not a digit" output is no digit): [0] is
    the digit to explain, [1] the runner-up."""
    digits = np.asarray(probabilities, dtype=np.float64)[:NUM_CLASSES]
    return [int(digit) for digit in np.argsort(-digits, kind="stable")]


@dataclass(frozen=True)
class DeletionDrops:
    """Mean fall of the model's probability for its answer when part of each drawing's ink is blanked."""

    saliency: float  # the pixels the saliency ranks highest
    random: float  # random ink pixels (mean over several draws)
    brightest: float  # the brightest ink pixels

    @property
    def versus_random(self) -> float:
        return self.saliency / self.random if self.random > 0 else float("inf")

    @property
    def versus_brightest(self) -> float:
        return self.saliency / self.brightest if self.brightest > 0 else float("inf")


def blank_top_ink(images: np.ndarray, scores: np.ndarray, share: float = DELETION_SHARE) -> np.ndarray:
    """Copies of ``images`` with the ``share`` of each one's ink pixels (non-zero) that score highest set
    to black. Ties keep reading order, so the result is the same every time."""
    blanked = np.array(images, copy=True)
    for image, image_scores in zip(blanked, np.asarray(scores), strict=True):
        rows, columns = np.nonzero(image)
        count = max(1, round(share * len(rows))) if len(rows) else 0
        top = np.argsort(-image_scores[rows, columns], kind="stable")[:count]
        image[rows[top], columns[top]] = 0
    return blanked


def deletion_drops(probabilities: ProbabilityFunction, images: np.ndarray, saliency: np.ndarray,
                   share: float = DELETION_SHARE, random_draws: int = 5, seed: int = 0) -> DeletionDrops:
    """The deletion test: how much blanking the ``share`` of ink ranked highest by ``saliency`` lowers the
    probability of each image's answer among the digits, against random ink and the brightest ink."""
    images = np.asarray(images)

    def among_digits(batch: np.ndarray) -> np.ndarray:  # which digit, as the maps explain it (not "not a digit")
        digits = probabilities(batch)[:, :NUM_CLASSES]
        return digits / digits.sum(axis=1, keepdims=True)

    before = among_digits(images)
    answers = before.argmax(axis=1)
    rows = np.arange(len(images))

    def drop(scores: np.ndarray) -> float:
        after = among_digits(blank_top_ink(images, scores, share))
        return float((before[rows, answers] - after[rows, answers]).mean())

    rng = np.random.default_rng(seed)
    random = np.mean([drop(rng.random(images.shape)) for _ in range(random_draws)])
    # The brightest first; among equally bright pixels a random order, so that reading order biases nothing.
    brightest = drop(images.astype(np.float64) + rng.random(images.shape) * 1e-4)
    return DeletionDrops(saliency=drop(saliency), random=float(random), brightest=brightest)
