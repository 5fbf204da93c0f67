"""Phones and tablets: the app in Playwright's "iPhone 13" and "iPad (gen 7)" presets (screen size, pixel ratio,
touch screen, mobile viewport), drawn on with a finger: trusted touch events from the browser's input pipeline
(CDP), which would scroll or zoom the page if the canvas let them.

Screenshots land in test-artifacts/touch-*.png for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.browser import (
    BROWSER_TESTS,
    CANVAS_SHOWN_JS,
    SCROLL_JS,
    app_env,
    assert_no_exception,
    chromium_and_devices,
    device_page,
    metric,
    open_page,
    screenshot,
    streamlit_server,
    touch_draw,
    wait_for,
)

pytestmark = BROWSER_TESTS
playwright = pytest.importorskip("playwright.sync_api")

PHONE, TABLET = "iPhone 13", "iPad (gen 7)"
SEVEN = [[(50.0, 60.0), (220.0, 60.0), (120.0, 250.0)]]  # canvas pixels: the bar, then down to the left


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_server(app_env(tmp_path_factory.mktemp("app"))) as running:
        yield running.url


@pytest.fixture(scope="module")
def browser_and_devices() -> Iterator[tuple[object, dict]]:
    with chromium_and_devices() as running:
        yield running


def assert_fits_the_screen(page) -> None:
    shown = page.evaluate(SCROLL_JS)
    assert shown["pageWidth"] <= shown["screenWidth"], f"the page scrolls sideways: {shown}"
    assert shown["mainWidth"] <= shown["mainShown"], f"the page's main area scrolls sideways: {shown}"


@pytest.mark.parametrize("device", [PHONE, TABLET])
def test_a_seven_drawn_with_a_finger_reads_7_and_the_page_stays_put(browser_and_devices, server: str,
                                                                    device: str) -> None:
    browser, devices = browser_and_devices
    with device_page(browser, devices[device]) as page:
        open_page(page, f"{server}/draw")
        canvas = page.locator("canvas.upper-canvas")
        canvas.wait_for()
        # Scrolled so that the page could move either way under a finger, as it would if the canvas let it.
        page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop = 60")
        wait_for(lambda: page.evaluate(CANVAS_SHOWN_JS) == 1.0, 10, "the whole canvas on screen")
        before = page.evaluate(SCROLL_JS)

        touch_draw(page, SEVEN)
        wait_for(lambda: metric(page, "Prediction") not in ("", "–"), 30, "the drawing to be read")
        assert metric(page, "Prediction") == "7"
        after = page.evaluate(SCROLL_JS)
        assert (after["windowX"], after["windowY"], after["mainTop"], after["mainLeft"]) == (
            before["windowX"], before["windowY"], before["mainTop"], before["mainLeft"]), "the page moved"
        assert page.evaluate(CANVAS_SHOWN_JS) == 1.0
        assert page.evaluate("() => visualViewport.scale") == 1.0, "the page zoomed"
        assert_fits_the_screen(page)  # with the reading, its chart and images shown too
        # For the picture (docs/phone.png): the canvas at the top of the screen, the reading under it.
        canvas.evaluate("canvas => canvas.scrollIntoView({block: 'start'})")
        page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTop -= 60")
        screenshot(page, f"touch-draw-{device.replace(' ', '-')}")
        assert_no_exception(page)


def test_a_run_started_on_a_phone_trains_live(browser_and_devices, server: str) -> None:
    browser, devices = browser_and_devices
    with device_page(browser, devices[PHONE]) as page:
        open_page(page, f"{server}/train")
        assert_fits_the_screen(page)
        page.get_by_role("button", name="Start training").tap()
        # The run loads MNIST in a process of its own at lower priority: on a machine others keep busy, its
        # first batch can come a minute or two after the press.
        wait_for(lambda: metric(page, "Loss") not in ("", "-"), 180, "a live loss")
        first = page.locator("[data-testid=stProgress]").inner_text()
        wait_for(lambda: page.locator("[data-testid=stProgress]").inner_text() != first, 30, "the progress to move")
        page.locator("[data-testid=stMetric]").first.scroll_into_view_if_needed()
        screenshot(page, "touch-train-iPhone-13")
        assert_fits_the_screen(page)
        page.get_by_role("button", name="Stop").tap()
        wait_for(lambda: page.locator("[data-testid=stAlertContentSuccess]").count() > 0, 120, "the stopped run saved")
        assert_no_exception(page)
