"""Pen-drawn UNIPEN digits: loading, and rendering them as the Draw page's canvas sends them."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from digits.preprocess import CANVAS_SIZE, PEN_WIDTH
from digits.unipen import (
    DRAWN_DATA_ENV,
    SHIPPED_DRAWN_DIGITS,
    DrawnDataError,
    DrawnDigit,
    drawn_digits_path,
    load_drawn_digits,
    random_box,
    render_strokes,
    strokes_to_canvas_points,
)


@pytest.fixture(scope="module")
def drawn() -> list[DrawnDigit]:
    return load_drawn_digits(SHIPPED_DRAWN_DIGITS)


def test_the_balanced_sample_has_100_of_each_digit(drawn: list[DrawnDigit]) -> None:
    assert Counter(digit.label for digit in drawn) == {label: 100 for label in range(10)}
    assert all(digit.writer and ":" in digit.writer for digit in drawn)  # writer_id, the person
    assert all(len(stroke) > 0 for digit in drawn for stroke in digit.strokes)
    assert isinstance(drawn[0].strokes[0][0], tuple)


def test_the_environment_names_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.json.gz"
    document = {"samples": [{"label": 4, "writer_id": "w:1", "strokes": [[[1, 2], [3, 4]]]}]}
    other.write_bytes(gzip.compress(json.dumps(document).encode()))
    monkeypatch.setenv(DRAWN_DATA_ENV, str(other))
    assert load_drawn_digits() == [DrawnDigit(label=4, writer="w:1", strokes=(((1, 2), (3, 4)),))]


def test_without_configuration_the_shipped_digits_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DRAWN_DATA_ENV, raising=False)
    assert drawn_digits_path() == SHIPPED_DRAWN_DIGITS
    shipped = load_drawn_digits()
    assert Counter(digit.label for digit in shipped) == {label: 100 for label in range(10)}
    assert len({digit.writer for digit in shipped}) == 81


def test_a_configured_file_that_is_missing_names_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DRAWN_DATA_ENV, str(tmp_path / "absent.json.gz"))
    with pytest.raises(DrawnDataError, match=DRAWN_DATA_ENV):
        load_drawn_digits()


def test_missing_and_damaged_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_drawn_digits(tmp_path / "absent.json.gz")
    damaged = tmp_path / "damaged.json.gz"
    damaged.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="not a readable"):
        load_drawn_digits(damaged)
    wrong = tmp_path / "wrong.json.gz"
    document = {"samples": [{"label": 12, "writer_id": "a", "strokes": [[[1, 2]]]}]}
    wrong.write_bytes(gzip.compress(json.dumps(document).encode()))
    with pytest.raises(DrawnDataError, match="label 12"):
        load_drawn_digits(wrong)


def test_render_is_an_opaque_black_canvas_with_white_ink_inside_the_box(drawn: list[DrawnDigit]) -> None:
    box = (40.0, 30.0, 150.0)
    for digit in drawn[::97]:
        rgba = render_strokes(digit.strokes, box=box)
        assert rgba.shape == (CANVAS_SIZE, CANVAS_SIZE, 4) and rgba.dtype == np.uint8
        assert (rgba[..., 3] == 255).all()
        assert (rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 1] == rgba[..., 2]).all()
        assert rgba[..., 0].max() == 255  # the middle of a stroke is pure white
        assert ((rgba[..., 0] > 0) & (rgba[..., 0] < 255)).any()  # and its edges are anti-aliased
        rows, cols = np.nonzero(rgba[..., 0])
        margin = PEN_WIDTH / 2 + 1
        assert rows.min() >= box[1] - margin and rows.max() <= box[1] + box[2] + margin
        assert cols.min() >= box[0] - margin and cols.max() <= box[0] + box[2] + margin


def test_the_pen_is_round_and_as_wide_as_asked() -> None:
    dot = render_strokes([[(500, 500)]], box=(0.0, 0.0, float(CANVAS_SIZE)))[..., 0]
    inked = dot >= 128
    assert abs(inked.sum() - np.pi * (PEN_WIDTH / 2) ** 2) < 0.1 * np.pi * (PEN_WIDTH / 2) ** 2
    line = render_strokes([[(100, 500), (900, 500)]], pen_width=6, box=(0.0, 0.0, float(CANVAS_SIZE)))[..., 0]
    assert (line[:, CANVAS_SIZE // 2] >= 128).sum() == 6


def test_canvas_points_map_the_unit_square_onto_the_box() -> None:
    points = strokes_to_canvas_points([[(0, 0), (1000, 1000)], [(500, 250)]], (10.0, 20.0, 100.0))
    assert points == [[(10.0, 20.0), (110.0, 120.0)], [(60.0, 45.0)]]


def test_random_boxes_lie_on_the_canvas_at_35_to_85_percent() -> None:
    rng = np.random.default_rng(0)
    boxes = [random_box(rng) for _ in range(2000)]
    for x0, y0, size in boxes:
        assert 0.35 * CANVAS_SIZE <= size <= 0.85 * CANVAS_SIZE
        assert x0 >= 0 and x0 + size <= CANVAS_SIZE
        assert y0 >= 0 and y0 + size <= CANVAS_SIZE
    sizes = np.array([box[2] for box in boxes]) / CANVAS_SIZE
    assert sizes.min() < 0.37 and sizes.max() > 0.83  # the whole range is used
    lefts = np.array([box[0] for box in boxes])
    assert lefts.min() < 20 and lefts.max() > 120  # anywhere, not always centred
