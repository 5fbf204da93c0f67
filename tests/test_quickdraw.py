"""Real people's doodles (Quick, Draw!): the shipped file, kinds kept apart, and drawings varied as other people
would draw them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from digits.non_digits import not_a_digit_examples, training_images, varied_strokes
from digits.predict import NOT_A_DIGIT
from digits.quickdraw import SHIPPED_QUICKDRAW, is_held_out_kind, load_doodles, split_by_kind
from digits.unipen import STROKE_SPACE, DrawnDataError


def test_the_shipped_doodles_hold_training_kinds_and_kinds_kept_apart() -> None:
    doodles = load_doodles(SHIPPED_QUICKDRAW)
    training, held_out = split_by_kind(doodles)
    training_kinds, held_kinds = {d.label for d in training}, {d.label for d in held_out}
    assert len(doodles) == 799 and not training_kinds & held_kinds
    assert len(training_kinds) == 178 and len(held_kinds) == 53  # one kind in four, by a hash of its name
    assert all(is_held_out_kind(kind) for kind in held_kinds)
    assert {"donut", "snowman", "baseball bat"} <= training_kinds | held_kinds


def test_the_split_by_kind_is_fixed_by_the_name_not_by_chance() -> None:
    kinds = [f"kind {i}" for i in range(400)]
    held = [kind for kind in kinds if is_held_out_kind(kind)]
    assert held == [kind for kind in kinds if is_held_out_kind(kind)]
    assert 60 < len(held) < 140  # about a quarter


def test_a_doodle_without_its_key_or_kind_says_what_is_wrong(tmp_path: Path) -> None:
    # Missing and damaged files are read by the same code as the pen-drawn digits (tests/test_drawn.py).
    no_key = tmp_path / "no_key.json.gz"
    with gzip.open(no_key, "wt") as file:
        json.dump({"samples": [{"label": "cat", "strokes": [[[0, 0], [5, 5]]]}]}, file)
    with pytest.raises(DrawnDataError, match="sample 0 is malformed"):
        load_doodles(no_key)
    no_kind = tmp_path / "no_kind.json.gz"
    with gzip.open(no_kind, "wt") as file:
        json.dump({"samples": [{"label": "", "key_id": "1", "strokes": [[[0, 0], [5, 5]]]}]}, file)
    with pytest.raises(DrawnDataError, match="expected a kind"):
        load_doodles(no_kind)


def test_varied_strokes_keep_the_drawing_but_turn_stretch_or_mirror_it() -> None:
    # An L: a vertical stroke and a horizontal foot to its right.
    ell = (((100, 0), (100, 1000)), ((100, 1000), (600, 1000)))
    rng = np.random.default_rng(0)
    varied = [varied_strokes(ell, rng) for _ in range(40)]
    for strokes in varied:
        assert len(strokes) == 2 and all(len(s) == 2 for s in strokes)
        points = np.array([p for s in strokes for p in s])
        assert points.min() >= 0 and points.max() <= STROKE_SPACE  # back in the square the renderer draws
        assert np.ptp(points, axis=0).max() == pytest.approx(STROKE_SPACE, abs=1)
    # Mirrored about half the time: the foot points left of the stem.
    feet_left = [s[1][1][0] < s[1][0][0] for s in varied]
    assert 10 < sum(feet_left) < 30


def test_real_doodles_are_taught_as_not_a_digit_and_only_in_one_piece() -> None:
    snowman = next(d for d in load_doodles(SHIPPED_QUICKDRAW) if d.label == "snowman")
    images = training_images([snowman.strokes], copies=5, seed=0, vary=True)
    assert images.shape[1:] == (28, 28) and 1 <= len(images) <= 5 and images.dtype == np.uint8
    examples, labels = not_a_digit_examples(seed=0, per_kind=1, copies=1, real=[snowman.strokes] * 3)
    assert len(examples) >= 3 and set(labels.tolist()) == {NOT_A_DIGIT}


def test_kinds_that_fool_the_model_come_worst_first_with_their_drawings() -> None:
    from digits.drawn_sets import DrawnSample
    from digits.non_digits import kinds_that_fool
    from digits.predict import Prediction, Reading

    digit, other = Prediction(1, 0.99, (0.0,) * 10), Prediction(1, 0.99, (0.0,) * 10, is_digit=False)
    labels = ("bat", "bat", "bat", "donut", "donut", "cat", "cat")
    sample = DrawnSample(labels, tuple((np.zeros((28, 28), np.uint8),) for _ in labels))
    readings = [Reading((digit,)), Reading((digit,)), Reading((other,)),  # bats: 2 of 3 taken for digits
                Reading((digit,)), Reading((other,)),  # donuts: 1 of 2
                Reading((other,)), None]  # cats: never (None: no ink, counted as rejected)
    fooling = kinds_that_fool(sample, readings, most=5)
    assert [(k.kind, round(k.taken_for_digits, 3), k.drawings) for k in fooling] == [
        ("bat", 0.667, (0, 1)), ("donut", 0.5, (3,))]
    assert [k.kind for k in kinds_that_fool(sample, readings, most=1)] == ["bat"]
