"""AppTest: the Train page's Compare mode, in-process, on the committed MNIST sample."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import PROJECT_ROOT
from digits.store import ModelStore

APP = str(PROJECT_ROOT / "streamlit_app.py")


@pytest.fixture(autouse=True)
def sample_data(sample_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))


def compare_mode() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.radio(key="train_mode").set_value("Compare settings").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_race_of_three_batch_sizes_starts_together_and_ends_in_a_table_and_sentences() -> None:
    from ui.resources import job_registry

    at = compare_mode()
    assert at.multiselect(key="compare_values").value == [32, 256, 1024]  # a race worth watching, to start from
    at.slider(key="compare_epochs").set_value(1)
    at.button(key="compare_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    job_ids = at.session_state["compare_race"]
    jobs = [job_registry().get(job_id) for job_id in job_ids]
    assert len(jobs) == 3 and all(job is not None for job in jobs)
    assert at.button(key="compare_start").disabled and not at.button(key="compare_stop").disabled
    assert [metric.label for metric in at.metric] == ["batch size 32", "batch size 256", "batch size 1024"]
    assert at.query_params["race"] == ",".join(job_ids)  # a refresh finds the race again
    deadline = time.monotonic() + 400
    while not all(job.wait(0.5) for job in jobs) and time.monotonic() < deadline:
        pass
    assert all(job.snapshot().status == "finished" for job in jobs), [job.snapshot().error for job in jobs]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert all(metric.value.endswith("%") for metric in at.metric)  # each card: its test accuracy
    sentences = next(item.value for item in at.markdown if item.value.startswith("- Batch size ")).splitlines()
    assert len(sentences) == 3 and all(line.startswith("- Batch size ") for line in sentences)
    # Each runner's network side by side, replayed with one slider: at its start all three are untrained.
    slider = at.select_slider(key="compare_inside_slider")
    assert slider.value == len(slider.options) - 1
    slider.set_value(0).run()
    assert not at.exception, [e.value for e in at.exception]
    assert sum(item.value.startswith("before training") for item in at.caption) == 3
    saved = {run.name for run in ModelStore().list()}
    assert {job.name for job in jobs} <= saved  # each run saved like any other
    assert not at.button(key="compare_start").disabled


def test_a_race_needs_two_values_and_says_so() -> None:
    at = compare_mode()
    at.multiselect(key="compare_values").set_value([256]).run()
    at.button(key="compare_start").click().run()
    assert "2 to 4 values" in at.warning[0].value
    assert "compare_race" not in at.session_state


def test_varying_the_kind_of_network_hides_the_kind_choice() -> None:
    at = compare_mode()
    at.selectbox(key="compare_setting").set_value("model").run()
    assert at.multiselect(key="compare_values").value == ["mlp", "cnn"]
    assert not [radio for radio in at.radio if radio.key == "compare_model"]
