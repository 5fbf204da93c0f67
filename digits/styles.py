"""A person's handwriting as a simple change of everyone else's: mirrored, slanted, turned, per digit.

Fifty drawings are few to learn a new shape from. But when a person's 2 is a mirrored 2, undoing the
mirror on their drawings makes the old model read them right: that says how they write it, and
mirrored copies of the thousands of 2s the model already knows become examples of *their* 2. Only
changes that clearly explain a digit's drawings are taken; other styles (a crossed 7, a flag on a 1)
are learned from the drawings alone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from digits.data import IMAGE_SIZE
from digits.preprocess import to_mnist

ProbabilityFunction = Callable[[np.ndarray], np.ndarray]
_PAD = IMAGE_SIZE // 2  # room for a slanted or turned digit before it is prepared again
# A change is taken for a digit when undoing it raises the old model's mean probability of the right answer
# on the person's drawings of that digit by at least this much, to at least CLEAR_PROBABILITY.
CLEAR_GAIN = 0.3
CLEAR_PROBABILITY = 0.6
MIN_EXAMPLES = 2  # one drawing of a digit is too little to say how the person writes it


def _affine(image: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    """A 28x28 uint8 digit moved by an affine map (output -> input coordinates about the centre), then
    prepared again as MNIST's digits were (cropped, 20x20, centred by mass)."""
    padded = np.pad(image, _PAD)
    size = padded.shape[0]
    a, b, d, e = coefficients
    centre = size / 2
    # PIL maps each output pixel to the input; keep the centre where it is.
    moved = Image.fromarray(padded).transform(
        (size, size), Image.Transform.AFFINE,
        (a, b, centre - a * centre - b * centre, d, e, centre - d * centre - e * centre),
        resample=Image.Resampling.BILINEAR,
    )
    prepared = to_mnist(np.asarray(moved, dtype=np.float32) / 255)
    return image if prepared is None else prepared


def _turn(degrees: float) -> tuple[float, float, float, float]:
    angle = np.radians(degrees)
    return (float(np.cos(angle)), float(np.sin(angle)), float(-np.sin(angle)), float(np.cos(angle)))


# Each style as the output -> input map of the change (so the person's digit = change(everyone's digit)).
STYLES: dict[str, tuple[float, float, float, float]] = {
    "mirrored": (-1.0, 0.0, 0.0, 1.0),
    "slanted right": (1.0, 0.45, 0.0, 1.0),
    "slanted far right": (1.0, 0.8, 0.0, 1.0),
    "slanted left": (1.0, -0.45, 0.0, 1.0),
    "slanted far left": (1.0, -0.8, 0.0, 1.0),
    "turned right": _turn(-25),
    "turned left": _turn(25),
}


def _inverse(coefficients: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    a, b, d, e = coefficients
    determinant = a * e - b * d
    return (e / determinant, -b / determinant, -d / determinant, a / determinant)


def apply_style(images: np.ndarray, style: str, undo: bool = False) -> np.ndarray:
    """(N, 28, 28) uint8 digits written in ``style`` (or with it undone)."""
    coefficients = _inverse(STYLES[style]) if undo else STYLES[style]
    return np.array([_affine(image, coefficients) for image in images], dtype=np.uint8).reshape(images.shape)


def infer_styles(probabilities: ProbabilityFunction, images: np.ndarray, labels: np.ndarray) -> dict[int, str]:
    """For each digit whose drawings a style clearly explains, that style (see CLEAR_GAIN)."""
    found = {}
    for digit in range(10):
        mine = images[labels == digit]
        if len(mine) < MIN_EXAMPLES:
            continue
        as_drawn = float(probabilities(mine)[:, digit].mean())
        gains = {style: float(probabilities(apply_style(mine, style, undo=True))[:, digit].mean())
                 for style in STYLES}
        style, best = max(gains.items(), key=lambda item: item[1])
        if best >= CLEAR_PROBABILITY and best - as_drawn >= CLEAR_GAIN:
            found[digit] = style
    return found


def styled_examples(images: np.ndarray, labels: np.ndarray, styles: dict[int, str], per_digit: int,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``per_digit`` of the given digits of each styled kind, changed into the person's style."""
    rng = np.random.default_rng(seed)
    out_images, out_labels = [np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)], [np.zeros(0, np.uint8)]
    for digit, style in sorted(styles.items()):
        rows = np.flatnonzero(labels == digit)
        rows = rng.choice(rows, size=min(per_digit, len(rows)), replace=False)
        out_images.append(apply_style(images[rows], style))
        out_labels.append(np.full(len(rows), digit, np.uint8))
    return np.concatenate(out_images), np.concatenate(out_labels)
