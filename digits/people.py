"""Simulated people with handwriting of their own, made from real pen-drawn digits, to measure teaching.

A "person" is a way of changing real UNIPEN strokes: a child who mirrors 2 3 5 6 7 9, someone who
slants every digit hard, someone with a backwards 4, a leaning 1 and a crossed 7. Their drawings are
rendered onto the Draw page's canvas and saved exactly as the page saves them (digits/feedback.py:
PNG + JSON), so teaching reads them the way it reads a real person's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from digits.default_model import is_held_out_writer
from digits.feedback import save_drawing
from digits.unipen import STROKE_SPACE, DrawnDigit, Stroke, fit_to_square, random_box, render_strokes

SIMULATED_MODEL = "simulated"  # the "model" field of a simulated person's saved drawings
Strokes = tuple[Stroke, ...]


def _points(strokes: Strokes) -> np.ndarray:
    return np.array([point for stroke in strokes for point in stroke], dtype=float)


def mirrored(strokes: Strokes) -> Strokes:
    """Left and right swapped, as children often write 2, 3, 5, 6, 7 and 9."""
    return fit_to_square([np.array(stroke, dtype=float) * (-1, 1) for stroke in strokes])


def slanted(strokes: Strokes, shear: float) -> Strokes:
    """Leaning right (``shear`` > 0) by moving each point right in proportion to its height."""
    return fit_to_square([np.array([(x + shear * (STROKE_SPACE - y), y) for x, y in stroke]) for stroke in strokes])


def with_crossbar(strokes: Strokes) -> Strokes:
    """A short bar across the middle (a continental 7)."""
    points = _points(strokes)
    (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
    middle, centre, half = (top + bottom) / 2, (left + right) / 2, max((right - left) * 0.3, 60.0)
    return fit_to_square([*(np.array(stroke, dtype=float) for stroke in strokes),
                          np.array([(centre - half, middle), (centre + half, middle)])])


@dataclass(frozen=True)
class Person:
    name: str
    description: str
    change: Callable[[int, Strokes], Strokes]  # (label, strokes) -> how this person writes it

    def writes(self, digit: DrawnDigit) -> DrawnDigit:
        return replace(digit, strokes=self.change(digit.label, digit.strokes))


def _mirrored_child(label: int, strokes: Strokes) -> Strokes:
    return mirrored(strokes) if label in (2, 3, 5, 6, 7, 9) else strokes


def _hard_slant(label: int, strokes: Strokes) -> Strokes:
    return slanted(strokes, 0.7)


def _quirky(label: int, strokes: Strokes) -> Strokes:
    if label == 4:
        return mirrored(strokes)
    if label == 1:
        return slanted(strokes, -0.6)
    if label == 7:
        return with_crossbar(strokes)
    return strokes


PEOPLE = (
    Person("mirror-child", "writes 2 3 5 6 7 9 mirrored, as many children do", _mirrored_child),
    Person("hard-slant", "every digit leans far to the right", _hard_slant),
    Person("quirky", "a backwards 4, a 1 leaning left, a crossed 7", _quirky),
)


def split_writers(drawn: list[DrawnDigit]) -> tuple[list[DrawnDigit], list[DrawnDigit]]:
    """The default model's held-out writers, split in two by writer: (a person's, other people's) digits.

    Neither half ever trained the default model; the person's half is where simulated people get their
    digits, the other half measures what teaching does to everyone else."""
    held_out = sorted({digit.writer for digit in drawn if is_held_out_writer(digit.writer)})
    person_writers = set(held_out[::2])
    mine = [digit for digit in drawn if digit.writer in person_writers]
    others = [digit for digit in drawn if is_held_out_writer(digit.writer) and digit.writer not in person_writers]
    return mine, others


def pick_per_digit(drawn: list[DrawnDigit], counts: tuple[int, ...], seed: int) -> list[list[DrawnDigit]]:
    """Disjoint random picks with ``counts[i]`` drawings of each digit in pick i (e.g. (5, 30): teach, test).

    Raises ValueError when some digit has too few drawings."""
    rng = np.random.default_rng(seed)
    picks: list[list[DrawnDigit]] = [[] for _ in counts]
    for label in range(10):
        pool = [digit for digit in drawn if digit.label == label]
        if len(pool) < sum(counts):
            raise ValueError(f"only {len(pool)} drawings of {label}; {sum(counts)} needed")
        order = rng.permutation(len(pool))
        start = 0
        for pick, count in zip(picks, counts, strict=True):
            pick.extend(pool[i] for i in order[start:start + count])
            start += count
    return picks


def save_as_drawings(directory: Path, drawn: list[DrawnDigit], seed: int) -> None:
    """Render each digit onto the canvas, anywhere and at any size as people draw, and save it as the Draw
    page saves a labelled drawing."""
    rng = np.random.default_rng(seed)
    for digit in drawn:
        canvas = render_strokes(digit.strokes, box=random_box(rng))
        save_drawing(directory, canvas, str(digit.label), predicted="", model=SIMULATED_MODEL)
