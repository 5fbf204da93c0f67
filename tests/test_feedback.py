from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from digits.feedback import FeedbackError, load_drawings, right_count, save_drawing


def canvas() -> np.ndarray:
    image = np.zeros((280, 280, 4), dtype=np.uint8)
    image[100:180, 130:150, :3] = 255
    image[..., 3] = 255
    return image


def test_saved_drawings_survive_and_score(tmp_path: Path) -> None:
    save_drawing(tmp_path, canvas(), "1", "1", "default")
    save_drawing(tmp_path, canvas(), "7", "1", "default")
    save_drawing(tmp_path, canvas(), "2026", "2026", "other")
    drawings = load_drawings(tmp_path)
    assert sorted(d.label for d in drawings) == ["1", "2026", "7"]
    assert right_count(drawings, "default") == (1, 2)
    assert right_count(drawings) == (2, 3)
    assert len(list(tmp_path.glob("*.png"))) == 3


def test_drawings_list_in_the_order_they_were_saved_even_within_one_second(tmp_path: Path) -> None:
    labels = [str(digit) for digit in (3, 1, 4, 1, 5, 9, 2, 6)]
    for label in labels:
        save_drawing(tmp_path, canvas(), label, "1", "default")
    assert [drawing.label for drawing in load_drawings(tmp_path)] == labels


@pytest.mark.parametrize("label", ["../../evil", "", "seven", "٣", "1" * 40])
def test_labels_must_be_plain_digits(tmp_path: Path, label: str) -> None:
    with pytest.raises(FeedbackError):
        save_drawing(tmp_path / "drawings", canvas(), label, "1", "default")
    assert not (tmp_path / "drawings").exists() or not any((tmp_path / "drawings").iterdir())


def test_damaged_records_are_skipped(tmp_path: Path) -> None:
    save_drawing(tmp_path, canvas(), "3", "3", "default")
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "odd.json").write_text(json.dumps({"unexpected": 1}))
    assert [d.label for d in load_drawings(tmp_path)] == ["3"]


def test_unwritable_folder_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FeedbackError, match="could not be saved"):
        save_drawing(blocker / "drawings", canvas(), "3", "3", "default")
