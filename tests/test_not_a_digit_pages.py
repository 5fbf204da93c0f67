"""AppTest: the Draw page says "Not a digit" (and takes it as an answer); Evaluate shows what the model rejects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import PROJECT_ROOT, save_hand_built
from digits.feedback import load_drawings
from digits.predict import NOT_A_DIGIT
from digits.unipen import render_strokes

APP = str(PROJECT_ROOT / "streamlit_app.py")
UPRIGHT = [((500, 0), (500, 1000))]  # the hand-built model reads it as 1
FLAT = [((0, 500), (1000, 500))]  # ... and takes it for "not a digit"


@pytest.fixture(autouse=True)
def sample_data(sample_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))


def page(path: str, model: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["current_model"] = model
    at.run()
    at.switch_page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def drawing(canvas: np.ndarray | None):
    return lambda key: canvas


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_draw_says_not_a_digit_with_the_closest_digit_apart(isolated_store: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    save_hand_built(isolated_store, "knows", NOT_A_DIGIT + 1)
    monkeypatch.setattr("ui.canvas.drawing_canvas", drawing(render_strokes(FLAT)))
    at = page("app_pages/draw.py", "knows")
    prediction = metrics(at)["Prediction"]
    assert prediction == "Not a digit" and not any(character.isdigit() for character in prediction)
    assert "not a digit" in at.info[0].value
    closest = next(block.value for block in at.markdown if block.value.startswith("Closest:"))
    assert "but it does not look like one" in closest and any(character.isdigit() for character in closest)
    assert at.button(key="draw_right").label == "Yes, it is not a digit"

    monkeypatch.setattr("ui.canvas.drawing_canvas", drawing(render_strokes(UPRIGHT)))
    at.run()
    assert metrics(at)["Prediction"] == "1" and metrics(at)["Confidence"].endswith("%")

    # A 1, a dash far from it, and a 1: each part judged on its own, the whole is not a number.
    # Strokes at x = 40, 100..180 and 240: the dash is more than a quarter of a 1's height from either.
    parts = [render_strokes(UPRIGHT, box=(-20, 70, 120)), render_strokes(FLAT, box=(100, 70, 80)),
             render_strokes(UPRIGHT, box=(180, 70, 120))]
    number = np.maximum.reduce(parts)
    monkeypatch.setattr("ui.canvas.drawing_canvas", drawing(number))
    at.run()
    assert not at.exception
    assert metrics(at)["Prediction"] == "Not a number"
    assert "1?1" in at.info[0].value and "part 2" in at.info[0].value
    assert [tab.label for tab in at.tabs] == ["Digit 1: 1", "Digit 2: ?", "Digit 3: 1"]


def test_not_a_digit_is_an_answer_on_the_draw_page(isolated_store: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    save_hand_built(isolated_store, "knows", NOT_A_DIGIT + 1)
    monkeypatch.setenv("DIGITS_DRAWINGS_DIR", str(tmp_path / "drawings"))
    monkeypatch.setattr("ui.canvas.drawing_canvas", drawing(render_strokes(UPRIGHT)))
    at = page("app_pages/draw.py", "knows")
    at.toggle(key="teach_keep_on_server").set_value(True).run()  # else drawings stay with the session
    at.text_input(key="draw_truth").set_value("Not a digit").run()
    at.button(key="draw_save").click().run()
    assert not at.exception
    saved = load_drawings(tmp_path / "drawings")
    assert [(d.label, d.predicted, d.right) for d in saved] == [("not a digit", "1", False)]

    monkeypatch.setattr("ui.canvas.drawing_canvas", drawing(render_strokes(FLAT)))
    at.run()
    at.button(key="draw_right").click().run()
    assert [(d.label, d.right) for d in load_drawings(tmp_path / "drawings")][-1] == ("not a digit", True)
    assert "Right on your drawings: **1 of 2**" in at.caption[-1].value

    monkeypatch.setattr("ui.canvas.drawing_canvas", drawing(render_strokes(UPRIGHT, box=(40, 40, 150))))
    at.run()
    at.text_input(key="draw_truth").set_value("a star").run()
    at.button(key="draw_save").click().run()
    assert "not a digit" in at.error[0].value  # says what it accepts; nothing saved
    assert len(load_drawings(tmp_path / "drawings")) == 2


def test_evaluate_says_how_the_model_decides_and_what_it_rejects(isolated_store: Path) -> None:
    save_hand_built(isolated_store, "knows", NOT_A_DIGIT + 1)
    save_hand_built(isolated_store, "calibrated", NOT_A_DIGIT, {"method": "threshold", "threshold": 0.9})
    at = page("app_pages/evaluate.py", "knows")
    assert any(header.value == "Things that are not digits" for header in at.subheader)
    how = next(block.value for block in at.markdown if block.value.startswith("**How it decides:**"))
    assert "output of its own" in how
    figures = metrics(at)
    assert figures["MNIST test digits read right"].endswith("%")
    # The hand-built model rejects only flat things: most letters and doodles get through as digits.
    assert 0 <= float(figures["Letters rejected"].rstrip("%")) < 90
    assert figures["Program doodles rejected"].endswith("%")
    # Real people's doodles of the kinds kept apart (the shipped ones): the hand-built model, which rejects only
    # flat things, is fooled by most, and the page shows the kinds that fool it most as the doodles people drew.
    assert 0 <= float(figures["Real doodles rejected"].rstrip("%")) < 90
    assert any(block.value.startswith("**What fools it**") for block in at.markdown)
    assert any(block.value.startswith("*") and "taken for a digit" in block.value for block in at.markdown)
    at.selectbox(key="evaluate_run").set_value("calibrated").run()
    assert not at.exception
    how = next(block.value for block in at.markdown if block.value.startswith("**How it decides:**"))
    assert "less than 90.0% sure" in how
