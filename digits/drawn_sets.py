"""Drawings as the Draw page reads them: strokes rendered anywhere on its canvas, cut into 28x28 parts by its
preprocessing, and read part by part with a model's decision. Evaluate's pen-drawn score and "not a digit"
figures, the default model's build, teaching's yardsticks and the benchmarks all measure drawings this one way.

A drawing counts as *read right* only when it is read as exactly its label (one digit, or a number); it counts
as *rejected* when it is not read as a digit or a number (a part is not a digit, or no ink was found).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from digits.predict import Decision, Outcome, ProbabilityFunction, Reading, outcome_of, to_predictions
from digits.preprocess import PEN_WIDTH, preprocess_canvas, preprocess_image
from digits.unipen import Stroke, random_box, render_strokes

Strokes = Sequence[Stroke]


def draw_anywhere(strokes: Strokes, rng: np.random.Generator, pen_width: float = PEN_WIDTH) -> list[np.ndarray]:
    """The 28x28 parts the Draw page would read if a person drew ``strokes`` somewhere on the canvas."""
    return preprocess_canvas(render_strokes(strokes, pen_width=pen_width, box=random_box(rng)))


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


def picture_sample(images: np.ndarray, labels: Sequence[object]) -> DrawnSample:
    """8-bit pictures of digits (MNIST's, say) as `python -m digits predict` reads them from image files."""
    return DrawnSample(tuple(str(label) for label in labels),
                       tuple(tuple(preprocess_image(Image.fromarray(image))) for image in images))


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


def rejected(readings: Sequence[Reading | None]) -> np.ndarray:
    """Per drawing: not read as a digit or a number."""
    return np.array([outcome_of(reading) is not Outcome.DIGIT for reading in readings], dtype=bool)


def read_right(readings: Sequence[Reading | None], labels: Sequence[str]) -> np.ndarray:
    """Per drawing: read as exactly its label (a rejection or a wrong digit is wrong)."""
    return np.array([reading is not None and reading.number == label for reading, label in zip(readings, labels,
                                                                                                 strict=True)])


def share_read_right(probabilities: ProbabilityFunction, sample: DrawnSample, decision: Decision) -> float:
    """The share of the sample's drawings read as exactly their labels."""
    return float(read_right(read_sample(probabilities, sample, decision), sample.labels).mean())
