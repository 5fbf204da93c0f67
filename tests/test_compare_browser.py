"""Compare mode in real Chromium against a real server: three runs racing live on one chart, then the table.

Trains on the committed MNIST sample (harness.browser.app_env); screenshots land in
test-artifacts/ (compare-live.png, compare-finished.png).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from harness.browser import (
    BROWSER_TESTS,
    app_env,
    chromium,
    chromium_page,
    metric,
    open_page,
    screenshot,
    streamlit_server,
    wait_for,
    wait_for_run_to_finish,
)

pytestmark = [
    *BROWSER_TESTS,
    pytest.mark.slow,
]
playwright = pytest.importorskip("playwright.sync_api")

RUNNERS = ["batch size 32", "batch size 256", "batch size 1024"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Room for all three at once, so all three curves grow live side by side.
    env = {**app_env(tmp_path_factory.mktemp("compare")), "DIGITS_MAX_TRAINING_JOBS": "3"}
    with streamlit_server(env) as running:
        yield running.url


@pytest.fixture
def page(server: str) -> Iterator[object]:
    with chromium() as browser, chromium_page(browser, height=1300) as page:
        yield page


def legend(page) -> list[str]:
    """The race chart's legend entries, in order."""
    return [text.strip() for text in page.locator("[data-testid=stPlotlyChart] .legendtext").all_text_contents()]


def test_three_batch_sizes_race_live_on_one_chart_then_the_table(page, server: str) -> None:
    open_page(page, f"{server}/train")
    page.get_by_text("Compare settings").click()
    page.get_by_role("button", name="Start the race").wait_for()
    wait_for_run_to_finish(page)  # the mode's first run: its button shows before the run ends
    page.get_by_role("button", name="Start the race").click()  # the suggested race: batch 32, 256, 1024; 2 epochs

    # Live: all three curves on one chart while the runs are still training.
    wait_for(lambda: legend(page) == RUNNERS, 180, "three runners on the chart")
    wait_for(lambda: any(metric(page, label).endswith("trained") for label in RUNNERS), 60, "a runner training")
    colours = page.locator("[data-testid=stPlotlyChart] .legend .traces path.js-line").evaluate_all(
        "lines => lines.map(line => line.style.stroke)")
    assert len(set(colours)) == 3, colours  # one colour per value
    time.sleep(2.0)  # a few more points, for the picture
    screenshot(page, "compare-live")

    # Then the results: every card shows its test accuracy, the table and one sentence per runner.
    wait_for(lambda: all(metric(page, label).endswith("%") for label in RUNNERS), 600, "the race to end")
    page.locator("[data-testid=stDataFrame]").first.wait_for()
    sentences = page.locator("[data-testid=stMarkdownContainer] li").all_inner_texts()
    assert len([line for line in sentences if line.startswith("Batch size ")]) == 3, sentences
    time.sleep(1.0)
    screenshot(page, "compare-finished")
    assert page.locator("[data-testid=stException]").count() == 0
