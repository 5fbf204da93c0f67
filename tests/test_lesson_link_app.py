"""AppTest: a lesson link opens the Train page set up as it says, with the controls it hides hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import PROJECT_ROOT

APP = str(PROJECT_ROOT / "streamlit_app.py")
TRAIN = "app_pages/train.py"
LESSON = {"kind": "cnn", "epochs": "5", "batch_size": "64", "learning_rate": "0.003", "dropout": "0.2",
          "augment": "on", "seed": "7", "hide": "learning_rate,dropout,seed"}


@pytest.fixture(autouse=True)
def sample_data(sample_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))


def open_link(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.switch_page(TRAIN)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def labels(at: AppTest) -> set[str]:
    return {widget.label for kind in ("slider", "select_slider", "radio", "toggle", "number_input", "text_input")
            for widget in getattr(at, kind)}


def test_a_lesson_link_sets_up_the_train_page_and_hides_what_it_says() -> None:
    at = open_link(LESSON)
    assert at.radio(key="train_model").value == "cnn"
    assert at.slider(key="train_epochs").value == 5
    assert at.select_slider(key="train_batch_size").value == 64
    assert at.session_state["train_learning_rate"] == 0.003
    assert at.session_state["train_dropout"] == 0.2
    assert at.session_state["train_seed"] == 7
    assert at.toggle(key="train_augment").value is True
    assert {"Learning rate", "Dropout", "Random seed"}.isdisjoint(labels(at))
    assert {"Epochs", "Batch size", "Hidden units", "Vary the training digits"} <= labels(at)
    assert not at.warning
    # The address stays a link to what is on screen, hidden controls included.
    assert {name: at.query_params[name] for name in LESSON} == LESSON

    at.slider(key="train_epochs").set_value(4).run()
    assert at.query_params["epochs"] == "4"
    assert at.query_params["hide"] == "learning_rate,dropout,seed"
    assert "Learning rate" not in labels(at)


def test_a_link_with_bad_values_opens_with_a_notice_and_uses_the_rest() -> None:
    at = open_link({"epochs": "500", "batch_size": "64", "colour": "red"})
    assert not at.exception
    assert at.slider(key="train_epochs").value == 5  # the simple network's default: 500 was left out
    assert at.select_slider(key="train_batch_size").value == 64
    notices = " ".join(warning.value for warning in at.warning)
    assert "epochs='500'" in notices and "'colour'" in notices


def test_a_race_link_opens_compare_mode() -> None:
    at = open_link({"mode": "compare", "vary": "learning_rate", "values": "0.001,0.1", "race_epochs": "2",
                    "hide": "mode"})
    assert at.selectbox(key="compare_setting").value == "learning_rate"
    assert at.multiselect(key="compare_values").value == [0.001, 0.1]
    assert at.slider(key="compare_epochs").value == 2
    assert "Mode" not in {radio.label for radio in at.radio}
    assert at.button(key="compare_start")
