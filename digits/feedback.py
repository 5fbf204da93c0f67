"""Drawings people label on the Draw page ("It was a ..."), kept as data across restarts.

Each drawing is a PNG of the canvas plus a JSON record (the right digit, what the model read,
which model, when). File names are generated here, never taken from the person, so nothing
can be written outside the folder.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from digits.predict import Outcome

DRAWINGS_DIR_ENV = "DIGITS_DRAWINGS_DIR"


# The answer saved for a drawing that is no digit at all (a star, a letter, a face): the words the app reads it
# with. (digits.predict.NOT_A_DIGIT is another thing: the index of a model's "not a digit" output.)
NOT_A_DIGIT_ANSWER = Outcome.NOT_A_DIGIT.value
# What people type for it, lower-cased and with single spaces.
_NOT_A_DIGIT_WORDS = {NOT_A_DIGIT_ANSWER, "not digit", "not a number", "no digit", "none", "nothing", "?"}


class FeedbackError(Exception):
    """A drawing could not be saved; the message says why."""


def parse_answer(text: str) -> str:
    """A person's answer as it is saved: the digits ("7", "2026") or NOT_A_DIGIT_ANSWER; FeedbackError else."""
    answer = " ".join(text.strip().lower().split())
    if answer in _NOT_A_DIGIT_WORDS:
        return NOT_A_DIGIT_ANSWER
    if not answer.isdigit() or not answer.isascii() or len(answer) > 32:
        raise FeedbackError(f'{text!r} is not a digit or a number: type the digit(s) it was, '
                            f'or "{NOT_A_DIGIT_ANSWER}".')
    return answer


@dataclass(frozen=True)
class LabelledDrawing:
    label: str  # the right answer: digits only ("7" or "2026"), or NOT_A_DIGIT_ANSWER
    predicted: str
    model: str
    created: str

    @property
    def right(self) -> bool:
        return self.label == self.predicted


def default_drawings_dir() -> Path:
    return Path(os.environ.get(DRAWINGS_DIR_ENV) or Path("data") / "drawings")


def _atomic_write(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_drawing(directory: Path, canvas: np.ndarray, label: str, predicted: str, model: str) -> LabelledDrawing:
    """Save the canvas image and what is known about it; the PNG is written before the record.

    ``label``: the right answer as typed (see parse_answer); ``predicted``: what the model read, the same way."""
    label = parse_answer(label)
    record = LabelledDrawing(label=label, predicted=predicted, model=model,
                             created=datetime.now(UTC).isoformat(timespec="seconds"))
    # Microseconds, so that names sort in the order drawings were saved, even several in one second.
    stem = f"{datetime.now(UTC):%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(np.asarray(canvas, dtype=np.uint8))
        buffer = _png_bytes(image)
        _atomic_write(directory / f"{stem}.png", buffer)
        _atomic_write(directory / f"{stem}.json", json.dumps(asdict(record)).encode())
    except OSError as error:
        raise FeedbackError(f"The drawing could not be saved in {directory}: {error.strerror or error}.") from error
    return record


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def load_drawings(directory: Path) -> list[LabelledDrawing]:
    """Every readable record, oldest first; unreadable ones are skipped, never fatal."""
    records = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else ():
        try:
            records.append(LabelledDrawing(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return records


def right_count(drawings: list[LabelledDrawing], model: str | None = None) -> tuple[int, int]:
    """(right, total) over the drawings, optionally of one model."""
    chosen = [drawing for drawing in drawings if model is None or drawing.model == model]
    return sum(drawing.right for drawing in chosen), len(chosen)
