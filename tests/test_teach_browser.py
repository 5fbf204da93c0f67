"""In Chromium against a real server: a child who mirrors 2 3 5 6 7 9 draws the quick round, presses Teach, sees
progress and the before/after, and the new model reads a drawing the old one got wrong. Screenshots in
test-artifacts/teach-*.png."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from conftest import DRAWN_1000
from harness import browser as harness
from harness.browser import BROWSER_TESTS, app_env, chromium, chromium_page, screenshot, streamlit_server

pytestmark = [
    *BROWSER_TESTS,
    pytest.mark.slow,
    pytest.mark.skipif(not DRAWN_1000.is_file(), reason="no pen-drawn digits"),
]
playwright = pytest.importorskip("playwright.sync_api")
MIRRORED = (2, 3, 5, 6, 7, 9)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # No pen-drawn digits for teaching to replay or measure with: the shortest teaching there is.
    with streamlit_server({**app_env(tmp_path_factory.mktemp("app")), "DIGITS_DRAWN_DATA": ""}) as running:
        yield running.url


@pytest.fixture
def page(server: str) -> Iterator[object]:
    with chromium() as browser, chromium_page(browser, height=2200) as page:
        yield page


def test_a_child_teaches_it_mirrored_digits(page, server: str) -> None:
    from digits.people import PEOPLE
    from digits.unipen import load_drawn_digits, random_box, strokes_to_canvas_points

    child = next(person for person in PEOPLE if person.name == "mirror-child")
    drawn = load_drawn_digits(DRAWN_1000)
    rng = np.random.default_rng(3)
    harness.open_page(page, f"{server}/draw")
    page.wait_for_selector("canvas.upper-canvas")
    page.get_by_role("button", name="Quick round: draw each digit 3 times").click()
    harness.wait_for(lambda: harness.metric(page, "Draw this digit") == "0", 20, "the first digit to draw")
    misread = []  # (digit, strokes) the old model read wrong
    for number in range(30):
        digit = int(harness.metric(page, "Draw this digit"))
        pool = [d for d in drawn if d.label == digit]
        written = child.writes(pool[int(rng.integers(len(pool)))])
        strokes = strokes_to_canvas_points(written.strokes, random_box(rng))
        reading, _ = harness.draw_and_read(page, strokes)
        if reading != str(digit):
            misread.append((digit, strokes))
        if number == 4:
            screenshot(page, "teach-round")
        page.get_by_role("button", name="Save and next").click()
        if number < 29:
            progress = page.locator("[data-testid=stProgress]")
            harness.wait_for(lambda n=number, bar=progress: f"{n + 1} of 30 drawn" in bar.inner_text(), 20,
                             "the next digit")
        time.sleep(0.7)  # a person looks up before drawing again; the fresh canvas is still mounting
    harness.wait_for(lambda: harness.metric(page, "Draw this digit") == "", 20, "the round to end")
    assert len(misread) >= 5, "the default model should misread many mirrored digits"
    page.get_by_role("button", name="Teach default my handwriting").click()
    harness.wait_for(lambda: page.locator("[data-testid=stProgress]").count() > 0, 60, "the teaching progress")
    time.sleep(1.0)
    screenshot(page, "teach-progress")
    harness.wait_for(lambda: page.locator("[data-testid=stAlertContentSuccess]").count() > 0, 600, "teaching to finish")
    assert "Taught default-taught-1" in page.locator("[data-testid=stAlertContentSuccess]").inner_text()
    time.sleep(1.0)
    screenshot(page, "teach-done")
    before_after = harness.metric(page, "Your drawings")
    assert before_after.endswith("%")
    picker = page.get_by_role("combobox", name="Current model")
    harness.wait_for(lambda: picker.input_value().startswith("default-taught-1"), 10, "the taught model in the sidebar")
    # A drawing the old model got wrong (a mirrored one, if any), drawn again: the taught model reads it.
    digit, strokes = min(misread, key=lambda pair: pair[0] not in MIRRORED)
    page.get_by_role("button", name="Clear").click()
    time.sleep(1.5)
    reading, _ = harness.draw_and_read(page, strokes)
    screenshot(page, "teach-reads-it-now")
    assert reading == str(digit)
    harness.assert_no_exception(page)
