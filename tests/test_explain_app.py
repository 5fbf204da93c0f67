"""AppTest: the "why" heat map on Draw, "What it has learned" and the mistake's close-up on Evaluate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import PROJECT_ROOT, load_sample
from digits.background.engine_local import LocalJob
from digits.background.tasks import TrainTask
from digits.data import Mnist
from digits.models import default_hyperparameters
from digits.store import ModelStore

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


def train_run(name: str) -> str:
    """A quick MLP on the committed sample: one epoch, so it still makes mistakes to look at."""
    job = LocalJob(TrainTask(default_hyperparameters("mlp", epochs=1, batch_size=100), name, load_sample),
                   ModelStore()).start()
    assert job.wait(120) and job.snapshot().status == "finished", job.snapshot().error
    return name


def captions(at: AppTest) -> list[str]:
    return [caption.value for caption in at.caption]


def test_draw_shows_what_made_it_say_its_answer_and_the_runner_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from digits.unipen import render_strokes

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
    from digits.unipen import render_strokes

    one = [((500, 50), (500, 950))]
    both = np.maximum(render_strokes(one, box=(20, 60, 120)), render_strokes(SEVEN, box=(140, 60, 120)))
    monkeypatch.setattr("ui.canvas.drawing_canvas", lambda key: both)
    at = page("app_pages/draw.py")
    assert {m.label: m.value for m in at.metric}["Prediction"] == "17"
    assert at.toggle(key="draw_why_runner_up_0") is not None and at.toggle(key="draw_why_runner_up_1") is not None
    texts = captions(at)
    assert any("toward **1**" in text for text in texts) and any("toward **7**" in text for text in texts)


def test_evaluate_shows_a_mistake_close_up_and_what_an_mlp_has_learned(sample: Mnist) -> None:
    from digits.evaluation import evaluate

    name = train_run("weak-mlp")
    at = page("app_pages/evaluate.py", current_model=name)
    mistakes = evaluate(ModelStore().load(name), sample.x_test, sample.y_test).mistakes
    headings = [block.value for block in at.markdown if block.value.startswith("**Test digit")]
    first = mistakes[0]
    assert headings == [f"**Test digit {first.index:,}: written {first.true_digit}, read as {first.predicted_digit}**"]
    # A click on another mistake (the gallery stores which) shows that one instead.
    other = mistakes[3]
    at.session_state["evaluate_mistake"] = other.index
    at.run()
    assert not at.exception
    assert any(f"Test digit {other.index:,}: written {other.true_digit}" in block.value for block in at.markdown)
    texts = captions(at)
    assert any("The pattern that votes for each digit" in text for text in texts)
    assert any("Its 128 hidden units" in text for text in texts)


def test_evaluate_shows_a_cnns_filters_and_feature_maps_of_a_test_digit_or_the_last_drawing() -> None:
    at = page("app_pages/evaluate.py", current_model="default")
    texts = captions(at)
    assert any("The first layer's 32 filters" in text for text in texts)
    assert any("Feature maps" in text for text in texts)
    assert at.radio(key="evaluate_learned_source").options == ["A test digit"]  # nothing drawn yet
    at.number_input(key="evaluate_learned_index").set_value(7).run()
    assert not at.exception
    # After a drawing, its feature maps can be shown instead.
    at.session_state["explain_last_drawing"] = np.zeros((28, 28), dtype=np.uint8)
    at.run()
    at.radio(key="evaluate_learned_source").set_value("Your last drawing").run()
    assert not at.exception
