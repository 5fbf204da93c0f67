""""Inside the network" in real Chromium: an MLP run shows its patterns, the strip and the map within its first
epoch, strip answers change as it learns, and after the run the replay slider moves through the snapshots."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.browser import (
    ARTIFACTS,
    BROWSER_TESTS,
    app_env,
    assert_no_exception,
    chromium_page,
    metric,
    open_page,
    screenshot,
    streamlit_server,
    wait_for,
)

pytestmark = BROWSER_TESTS
playwright = pytest.importorskip("playwright.sync_api")

STRIP = "figure[data-answer]"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, full_mnist_dir: Path) -> Iterator[str]:
    """conftest's server, on full MNIST: an epoch of the committed sample is over in a second, before a page
    could show a snapshot taken within it."""
    with streamlit_server(app_env(tmp_path_factory.mktemp("app"), full_mnist_dir)) as running:
        yield running.url


@pytest.fixture
def page(browser, server: str) -> Iterator[object]:
    """conftest's page, taller: the panel's four parts on one screenshot."""
    with chromium_page(browser, height=2600) as page:
        yield page


def strip_answers(page) -> list[str]:
    return page.locator(STRIP).evaluate_all("figures => figures.map(figure => figure.dataset.answer)")


def snapshot_caption(page) -> str:
    captions = page.locator("[data-testid=stCaptionContainer]", has_text="Snapshot ")
    return captions.first.inner_text() if captions.count() else ""


def picture_sources(page) -> list[str]:
    return page.locator("[data-testid=stImage] img").evaluate_all("images => images.map(image => image.src)")


def test_watch_it_learn_then_replay(page, server: str) -> None:
    open_page(page, f"{server}/train")
    slider = page.get_by_role("slider", name="Epochs")
    slider.focus()
    slider.press("Home")
    slider.press("ArrowRight")  # 2 epochs
    wait_for(lambda: slider.input_value() == "2", 10, "Epochs at 2")
    page.get_by_role("button", name="Start training").click()

    # Within the first epoch: the patterns, the strip of 20 digits and the map.
    wait_for(lambda: "epochs)" in snapshot_caption(page), 90, "a snapshot taken during training")
    epochs_done = float(re.search(r"\(([\d.]+) epochs\)", snapshot_caption(page))[1])
    assert epochs_done < 1 and metric(page, "Epoch") == "1 / 2"
    assert page.get_by_text("The pattern that votes for each digit").count() > 0
    assert page.locator(STRIP).count() == 20
    assert page.get_by_text("The map of the digits").count() == 1
    assert page.locator("[data-testid=stPlotlyChart]").count() >= 3  # the curves, the map, the bars
    first_answers = strip_answers(page)
    wait_for(lambda: strip_answers(page) not in ([], first_answers), 120, "a strip answer to change")
    screenshot(page, "inside-running")
    panel = page.locator("[data-testid=stColumn]", has=page.get_by_role("heading", name="Inside the network")).last
    panel.screenshot(path=str(ARTIFACTS / "inside-panel.png"))  # the README's picture (docs/screenshots.py)

    wait_for(lambda: page.locator("[data-testid=stAlertContentSuccess]").count() > 0, 600, "the run to finish")
    replay = page.get_by_role("slider", name="Replay its training").first
    wait_for(lambda: replay.count() == 1, 30, "the replay slider")
    wait_for(lambda: "2.00 epochs" in snapshot_caption(page), 30, "the last snapshot shown first")
    last_pictures, last_answers = picture_sources(page), strip_answers(page)
    replay.focus()
    replay.press("Home")
    wait_for(lambda: "before training" in snapshot_caption(page), 30, "the replay at its start")
    wait_for(lambda: picture_sources(page) != last_pictures, 30, "the pictures to change with the slider")
    assert strip_answers(page) != last_answers
    screenshot(page, "inside-replay-start")
    replay.press("ArrowRight")
    wait_for(lambda: "after " in snapshot_caption(page), 30, "the replay's next snapshot")
    assert_no_exception(page)
