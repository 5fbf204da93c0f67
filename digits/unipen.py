"""Digits drawn by real people with a pen (UNIPEN), replayed as the Draw page's canvas would send them.

MNIST's test set says little about the Draw page: its digits were written on paper and
prepared by NIST. These strokes were written online, like drawing with a mouse, by other
writers, so rendering them onto the canvas measures what users will actually see, and the
same points can be replayed as mouse drags in browser tests.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from digits.preprocess import CANVAS_SIZE, PEN_WIDTH

DRAWN_DATA_ENV = "DIGITS_DRAWN_DATA"
# 1,000 UNIPEN digits (100 of each, by 81 writers; CC BY 4.0, credited in assets/drawn/README.md) ship with
# the app, so every installation can score models on drawn digits; DIGITS_DRAWN_DATA names another file.
SHIPPED_DRAWN_DIGITS = Path(__file__).resolve().parent.parent / "assets" / "drawn" / "unipen_digits_1000.json.gz"
STROKE_SPACE = 1000  # UNIPEN points are scaled into a 0..1000 square
_SUPERSAMPLE = 4  # draw 4x larger and shrink with an area filter: anti-aliasing like the browser's

Stroke = tuple[tuple[int, int], ...]
Box = tuple[float, float, float]  # left, top, size in canvas pixels


def fit_to_square(strokes: list[np.ndarray]) -> tuple[Stroke, ...]:
    """Strokes that were changed (mirrored, slanted, given an extra stroke that reaches past them) scaled and
    moved back into the 0..STROKE_SPACE square the renderer draws from, keeping their shape."""
    every = np.concatenate(strokes)
    low, high = every.min(axis=0), every.max(axis=0)
    scale = STROKE_SPACE / max(float((high - low).max()), 1.0)
    offset = (STROKE_SPACE - (high - low) * scale) / 2
    return tuple(
        tuple((round(x), round(y)) for x, y in ((stroke - low) * scale + offset).tolist()) for stroke in strokes
    )


class DrawnDataError(FileNotFoundError, ValueError):
    """The drawn-digit file is not configured, missing or not in the expected format."""


@dataclass(frozen=True)
class DrawnDigit:
    label: int | str  # 0..9; one letter for the drawings of load_drawn_letters
    writer: str  # the person (UNIPEN writer_id): keep writers apart between training and validation
    strokes: tuple[Stroke, ...]


def drawn_digits_path() -> Path:
    """The pen-drawn digits to use: $DIGITS_DRAWN_DATA where set, else the set shipped with the app."""
    configured = os.environ.get(DRAWN_DATA_ENV)
    return Path(configured).expanduser() if configured else SHIPPED_DRAWN_DIGITS


def load_drawn_digits(path: str | os.PathLike[str] | None = None) -> list[DrawnDigit]:
    """Read a unipen_digits_*.json.gz file (default: drawn_digits_path()), checking every sample."""
    path = drawn_digits_path() if path is None else Path(path).expanduser()
    drawings = parse_samples(read_samples(path), path)
    for index, digit in enumerate(drawings):
        if not isinstance(digit.label, int) or not 0 <= digit.label <= 9:
            raise DrawnDataError(f"{path}: sample {index} has label {digit.label!r}, expected 0..9.")
    return drawings


def load_drawn_letters(path: str | os.PathLike[str]) -> list[DrawnDigit]:
    """Read a unipen_letters_*.json.gz file: pen-written letters, ``label`` one letter (things that are not
    digits, for teaching and measuring "not a digit")."""
    path = Path(path).expanduser()
    letters = parse_samples(read_samples(path), path)
    for index, letter in enumerate(letters):
        if not isinstance(letter.label, str) or len(letter.label) != 1 or letter.label.isdigit():
            raise DrawnDataError(f"{path}: sample {index} has label {letter.label!r}, expected one letter.")
    return letters


def read_samples(path: Path) -> list[object]:
    """The list of samples in a gzip'd JSON file of drawings as strokes, or DrawnDataError."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as file:
            document = json.load(file)
    except FileNotFoundError as error:
        raise DrawnDataError(f"{path} does not exist (set {DRAWN_DATA_ENV} to a unipen_digits_*.json.gz file).") \
            from error
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DrawnDataError(f"{path} is not a readable gzip'd JSON file ({error}).") from error
    samples = document.get("samples") if isinstance(document, dict) else None
    if not isinstance(samples, list):
        raise DrawnDataError(f"{path} has no list of 'samples'.")
    return samples


def parse_samples(samples: list[object], path: Path, writer_key: str = "writer_id") -> list[DrawnDigit]:
    """Every sample as a drawing, checked; ``writer_key`` names the field that says who drew it."""
    return [_parse_sample(sample, index, path, writer_key) for index, sample in enumerate(samples)]


def _parse_sample(sample: object, index: int, path: Path, writer_key: str) -> DrawnDigit:
    try:
        label = sample["label"]  # type: ignore[index]
        writer = sample[writer_key]  # type: ignore[index]
        strokes = tuple(tuple((int(x), int(y)) for x, y in stroke) for stroke in sample["strokes"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError) as error:
        raise DrawnDataError(f"{path}: sample {index} is malformed ({error!r}).") from error
    if not strokes or not all(strokes):
        raise DrawnDataError(f"{path}: sample {index} has an empty stroke.")
    return DrawnDigit(label=label, writer=str(writer), strokes=strokes)


def random_box(
    rng: np.random.Generator,
    canvas_size: int = CANVAS_SIZE,
    low: float = 0.35,
    high: float = 0.85,
    *,
    margin: float = PEN_WIDTH / 2,
) -> Box:
    """A box for one digit: 35-85% of the canvas, anywhere on it, as people draw.

    ``margin`` (half the pen by default) keeps the pen's ink, not just its centre line, on the canvas.
    """
    size = float(rng.uniform(low, high)) * canvas_size
    margin = max(0.0, min(margin, (canvas_size - size) / 2))
    x0 = float(rng.uniform(margin, canvas_size - size - margin))
    y0 = float(rng.uniform(margin, canvas_size - size - margin))
    return (x0, y0, size)


def strokes_to_canvas_points(strokes: tuple[Stroke, ...] | list, box: Box) -> list[list[tuple[float, float]]]:
    """Each stroke's points in canvas pixels: point (x, y) of the 0..1000 square -> (x0 + x*s, y0 + y*s)."""
    x0, y0, size = box
    scale = size / STROKE_SPACE
    return [[(x0 + x * scale, y0 + y * scale) for x, y in stroke] for stroke in strokes]


def render_strokes(
    strokes: tuple[Stroke, ...] | list,
    *,
    canvas_size: int = CANVAS_SIZE,
    pen_width: float = PEN_WIDTH,
    box: Box | None = None,
) -> np.ndarray:
    """Strokes -> RGBA uint8 (canvas_size, canvas_size, 4), as the canvas sends white ink on black.

    Opaque black background (alpha 255 everywhere), white anti-aliased lines with round caps
    and joins. The default box is centred and 60% of the canvas.
    """
    if box is None:
        box = (0.2 * canvas_size, 0.2 * canvas_size, 0.6 * canvas_size)
    big = canvas_size * _SUPERSAMPLE
    radius = pen_width * _SUPERSAMPLE / 2
    image = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(image)
    for points in strokes_to_canvas_points(strokes, box):
        # Pillow draws at pixel centres; canvas coordinates put pixel i's centre at i + 0.5.
        scaled = [(x * _SUPERSAMPLE - 0.5, y * _SUPERSAMPLE - 0.5) for x, y in points]
        if len(scaled) > 1:
            draw.line(scaled, fill=255, width=round(2 * radius))
        for x, y in scaled:  # round caps and joins
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    grey = np.asarray(image.reduce(_SUPERSAMPLE))
    rgba = np.empty((canvas_size, canvas_size, 4), dtype=np.uint8)
    rgba[..., :3] = grey[..., np.newaxis]
    rgba[..., 3] = 255
    return rgba
