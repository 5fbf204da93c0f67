"""The presenter view's big canvas gives the model what the Draw page's canvas would."""

from __future__ import annotations

import numpy as np

from digits.preprocess import CANVAS_SIZE
from ui.presenter import SCALE, shrink


def test_the_big_canvas_is_shrunk_to_the_draw_pages() -> None:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, size=(CANVAS_SIZE, CANVAS_SIZE, 4), dtype=np.uint8)
    big = small.repeat(SCALE, axis=0).repeat(SCALE, axis=1)
    assert np.array_equal(shrink(big), small)
    halves = np.zeros((CANVAS_SIZE * SCALE, CANVAS_SIZE * SCALE, 4), dtype=np.uint8)
    halves[::2] = 255  # every other row inked: each 2x2 block half ink
    assert set(np.unique(shrink(halves))) == {128}
