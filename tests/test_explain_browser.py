"""In Chromium: the Draw page's heat map, the mistake close-up, and "What it has learned" for an MLP and a CNN.

Screenshots land in test-artifacts/explain-*.png for a person to look at.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterator

import numpy as np
import pytest

from conftest import load_sample
from digits.background.engine_local import LocalJob
from digits.background.tasks import TrainTask
from digits.data import load_mnist
from digits.models import default_hyperparameters
from digits.store import ModelStore
from digits.unipen import strokes_to_canvas_points
from harness.browser import (
    BROWSER_TESTS,
    app_env,
    assert_no_exception,
    draw_and_read,
    open_page,
    screenshot,
    streamlit_server,
    wait_for,
)

pytestmark = [
    *BROWSER_TESTS,
]

MLP_RUN = "explain-mlp"
SEVEN = [((200, 100), (800, 100), (450, 900)), ((300, 500), (700, 500))]
HEADING = re.compile(r"Test digit [\d,]+: written \d, read as \d")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app, with the shipped CNN and a quickly trained MLP (full MNIST where there is one)."""
    env = app_env(tmp_path_factory.mktemp("app"))
    loader = load_mnist if os.environ.get("DIGITS_DATA_DIR") else load_sample
    hp = default_hyperparameters("mlp", epochs=5, batch_size=128)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIGITS_DATA_DIR", env["DIGITS_DATA_DIR"])
        job = LocalJob(TrainTask(hp, MLP_RUN, loader), ModelStore(env["DIGITS_MODELS_DIR"])).start()
        assert job.wait(300) and job.snapshot().status == "finished", job.snapshot().error
    with streamlit_server(env) as running:
        yield running.url


Strokes = list[list[tuple[float, float]]]


def densified(strokes: Strokes, points_per_segment: int = 12) -> Strokes:
    """Each straight segment as many small mouse moves, as a hand makes them: the canvas draws what it sees."""
    return [[(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
             for (x0, y0), (x1, y1) in itertools.pairwise(stroke)
             for t in np.linspace(0, 1, points_per_segment)] for stroke in strokes]


def images_captioned(page, text: str):
    return page.locator("[data-testid=stImage]").filter(has_text=text)


def test_draw_shows_what_made_it_say_its_answer_and_the_runner_up(page, server: str) -> None:
    open_page(page, f"{server}/draw")
    page.wait_for_selector("canvas.upper-canvas")
    reading, _ = draw_and_read(page, densified(strokes_to_canvas_points(SEVEN, (60.0, 50.0, 170.0))))
    assert reading == "7"
    heat_map = images_captioned(page, "What made it say 7")
    wait_for(lambda: heat_map.count() == 1, 15, "the heat map")
    assert page.get_by_text("pushed the model toward 7").count() == 1
    screenshot(page, "explain-draw")

    toggle = page.get_by_text(re.compile(r"^What would make it a \d\?$"))
    runner_up = re.search(r"\d", toggle.inner_text())[0]
    toggle.click()
    wait_for(lambda: images_captioned(page, f"What looks like a {runner_up} to it").count() == 1, 15,
             "the runner-up's map")
    wait_for(lambda: page.get_by_text(f"pushed the model toward {runner_up}").count() == 1, 15,
             "the runner-up's sentence")
    screenshot(page, "explain-draw-runner-up")
    assert_no_exception(page)


def open_evaluate(page, server: str, model: str) -> None:
    open_page(page, f"{server}/evaluate?model={model}")
    page.wait_for_selector("[data-testid=stPlotlyChart] .heatmaplayer", timeout=120_000)
    page.get_by_role("heading", name="What it has learned").wait_for(timeout=60_000)


def test_a_clicked_mistake_shows_close_up_and_an_mlp_shows_what_it_has_learned(page, server: str) -> None:
    open_evaluate(page, server, MLP_RUN)
    heading = page.get_by_text(HEADING)
    first = heading.inner_text()
    # Click the second picture of the gallery (the first is shown until then): its captions have arrows.
    area = page.locator("[data-testid=stPlotlyChart]").filter(has_text="→").locator(".nsewdrag").bounding_box()
    assert area is not None
    x, y = area["x"] + area["width"] * 0.25, area["y"] + area["height"] * 0.09
    page.mouse.move(x - 10, y)
    page.mouse.move(x, y, steps=5)  # plotly picks the point on hover; a click without one selects nothing
    time.sleep(0.3)
    page.mouse.click(x, y)
    wait_for(lambda: heading.inner_text() != first, 20, "the clicked mistake's close-up")
    wrong = re.search(r"read as (\d)", heading.inner_text())[1]
    wait_for(lambda: images_captioned(page, f"Why it said {wrong}").count() == 1, 15, "the close-up's heat maps")
    heading.scroll_into_view_if_needed()
    screenshot(page, "explain-mistake")

    page.get_by_role("heading", name="What it has learned").scroll_into_view_if_needed()
    wait_for(lambda: images_captioned(page, "votes for 9").count() == 1, 30, "the digit patterns")
    screenshot(page, "explain-learned-mlp")
    assert_no_exception(page)


def test_a_cnn_shows_its_filters_and_feature_maps(page, server: str) -> None:
    open_evaluate(page, server, "default")
    page.get_by_role("heading", name="What it has learned").scroll_into_view_if_needed()
    wait_for(lambda: images_captioned(page, "First-layer filters").count() == 1, 30, "the filters")
    wait_for(lambda: images_captioned(page, "Layer 3").count() == 1, 30, "the feature maps")
    screenshot(page, "explain-learned-cnn")
    images_captioned(page, "Layer 3").scroll_into_view_if_needed()
    screenshot(page, "explain-feature-maps")
    assert_no_exception(page)
