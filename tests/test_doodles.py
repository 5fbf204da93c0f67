"""Doodles: many kinds of drawings that are not digits, in the UNIPEN stroke format, drawn as the canvas would."""

from __future__ import annotations

import numpy as np
import pytest

from digits.doodles import HELD_OUT_KINDS, KINDS, MAX_POINTS, TRAINING_KINDS, make_doodles
from digits.drawn_sets import draw_anywhere
from digits.non_digits import training_images
from digits.preprocess import preprocess_canvas
from digits.unipen import STROKE_SPACE, render_strokes


def test_kinds_are_many_and_some_are_never_trained_on() -> None:
    assert len(KINDS) >= 25 and len(HELD_OUT_KINDS) >= 5
    assert set(HELD_OUT_KINDS).isdisjoint(TRAINING_KINDS)
    assert set(HELD_OUT_KINDS) | set(TRAINING_KINDS) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_is_strokes_in_the_unipen_square(kind: str) -> None:
    doodles = make_doodles([kind], 5, seed=3)
    for doodle in doodles:
        assert doodle.kind == kind and doodle.strokes
        points = np.array([point for stroke in doodle.strokes for point in stroke])
        assert points.min() >= 0 and points.max() <= STROKE_SPACE
        assert np.ptp(points, axis=0).max() >= 0.95 * STROKE_SPACE  # scaled to fill the square, as UNIPEN's
        assert all(2 <= len(stroke) <= MAX_POINTS for stroke in doodle.strokes)
    # Each of its own random variation: no two alike.
    assert len({doodle.strokes for doodle in doodles}) == len(doodles)
    # Drawn on the canvas, the Draw page finds ink (and, for all the kinds, one drawing rather than pieces).
    rng = np.random.default_rng(0)
    parts = [len(draw_anywhere(doodle.strokes, rng)) for doodle in doodles]
    assert all(count >= 1 for count in parts) and parts.count(1) >= 4


def test_the_same_seed_gives_the_same_doodles() -> None:
    assert make_doodles(TRAINING_KINDS, 2, seed=5) == make_doodles(TRAINING_KINDS, 2, seed=5)
    assert make_doodles(TRAINING_KINDS, 2, seed=5) != make_doodles(TRAINING_KINDS, 2, seed=6)


def test_training_images_keep_only_drawings_read_as_one_part() -> None:
    star = make_doodles(["star"], 1, seed=0)[0].strokes
    two_apart = (((100, 0), (100, 1000)), ((900, 0), (900, 1000)))  # two bars far apart: always two parts
    assert len(preprocess_canvas(render_strokes(two_apart))) == 2
    images = training_images([star, two_apart], copies=3, seed=0)
    assert images.shape == (3, 28, 28) and images.dtype == np.uint8 and images.max() == 255
