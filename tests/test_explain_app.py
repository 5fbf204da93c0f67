"""AppTest: the "why" heat map on Draw, "What it has learned" and the mistake's close-up on Evaluate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import PROJECT_ROOT

APP = str(PROJECT_ROOT / "streamlit_app.py")
SEVEN = [((200, 100), (800, 100), (450, 900)), ((300, 500), (700, 500))]


@pytest.fixture(autouse=True)
def sample_data(sample_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))


def page(path: str, **session: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def captions(at: AppTest) -> list[str]:
    return [caption.value for caption in at.caption]


def test_draw_shows_what_made_it_say_its_answer_and_the_runner_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from digits.drawn import render_strokes

    monkeypatch.setattr("ui.canvas.drawing_canvas", lambda key: render_strokes(SEVEN))
    at = page("app_pages/draw.py")
    assert {m.label: m.value for m in at.metric}["Prediction"] == "7"
    assert any("pushed the model toward **7**" in text for text in captions(at))
    toggle = at.toggle(key="draw_why_runner_up_0")
    runner_up = toggle.label.removeprefix("What would make it a ").removesuffix("?")
    assert runner_up.isdigit() and runner_up != "7"
    toggle.set_value(True).run()
    assert not at.exception
    assert any(f"pushed the model toward **{runner_up}**" in text for text in captions(at))
    assert at.session_state["explain_last_drawing"].shape == (28, 28)


def test_draw_explains_each_digit_of_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    from digits.drawn import render_strokes

    one = [((500, 50), (500, 950))]
    both = np.maximum(render_strokes(one, box=(20, 60, 120)), render_strokes(SEVEN, box=(140, 60, 120)))
    monkeypatch.setattr("ui.canvas.drawing_canvas", lambda key: both)
    at = page("app_pages/draw.py")
    assert {m.label: m.value for m in at.metric}["Prediction"] == "17"
    assert at.toggle(key="draw_why_runner_up_0") is not None and at.toggle(key="draw_why_runner_up_1") is not None
    texts = captions(at)
    assert any("toward **1**" in text for text in texts) and any("toward **7**" in text for text in texts)
