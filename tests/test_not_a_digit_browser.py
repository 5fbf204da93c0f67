"""In Chromium, with the shipped default model: a star, a smiley and a house drawn on the Draw page are not
read as digits; then a 7 is read as 7."""

from __future__ import annotations

import time

from digits.doodles import make_doodles
from digits.unipen import strokes_to_canvas_points
from harness.browser import BROWSER_TESTS, assert_no_exception, clear, draw_and_read, metric, open_page, screenshot

pytestmark = BROWSER_TESTS

DOODLE_SEED = 11  # fixed doodles, drawn where a person might: not the model's training ones
BOXES = {"star": (40.0, 50.0, 190.0), "smiley": (70.0, 30.0, 170.0), "house": (20.0, 80.0, 160.0)}
SEVEN = [[(70.0, 60.0), (130.0, 58.0), (200.0, 62.0), (170.0, 120.0), (140.0, 180.0), (115.0, 235.0)]]


def test_doodles_are_not_digits_and_a_seven_is_a_seven(page, server: str) -> None:
    open_page(page, f"{server}/draw")
    page.wait_for_selector("canvas.upper-canvas")
    time.sleep(1.0)
    for kind, box in BOXES.items():
        doodle = make_doodles([kind], 1, seed=DOODLE_SEED)[0]
        shown, _ = draw_and_read(page, strokes_to_canvas_points(doodle.strokes, box))
        screenshot(page, f"not-a-digit-{kind}")
        assert not any(character.isdigit() for character in shown), f"the {kind} was read as {shown!r}"
        assert shown in ("Not a digit", "Not a number")
        assert page.get_by_text("but it does not look like one").count() + \
            page.get_by_text("not every part looks like a digit").count() == 1
        time.sleep(0.3)
        clear(page)
        time.sleep(0.7)  # a person looks up before drawing again; the fresh canvas is still mounting
    shown, _ = draw_and_read(page, SEVEN)
    assert shown == "7" and metric(page, "Prediction") == "7"
    screenshot(page, "not-a-digit-then-7")
    assert_no_exception(page)
