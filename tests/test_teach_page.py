"""The Draw page's "Teach it your handwriting" flow, driven through AppTest: a quick round, Teach, before/after."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import PROJECT_ROOT, as_canvas
from digits.data import Mnist
from digits.feedback import load_drawings

APP = str(PROJECT_ROOT / "streamlit_app.py")


def test_quick_round_then_teach_makes_a_current_model_its_teacher_may_delete(
    sample: Mnist, sample_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))
    monkeypatch.setenv("DIGITS_DRAWINGS_DIR", str(tmp_path / "drawings"))
    monkeypatch.delenv("DIGITS_DRAWN_DATA", raising=False)
    canvas = {"now": None}  # what the person has drawn: set before each press, as a person draws first
    monkeypatch.setattr("ui.canvas.drawing_canvas", lambda key: canvas["now"])
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["current_model"] = "default"
    at.run()
    at.switch_page("app_pages/draw.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("0** of your drawings" in m.value for m in at.markdown)

    at.button(key="teach_round_start").click().run()
    seen = {digit: 0 for digit in range(10)}
    for _ in range(30):
        digit = int({m.label: m.value for m in at.metric}["Draw this digit"])
        # The child writes every digit mirrored: different real digits each time.
        image = sample.x_test[np.flatnonzero(sample.y_test == digit)[seen[digit]]][:, ::-1]
        seen[digit] += 1
        canvas["now"] = as_canvas(image)
        at.run()
        at.button(key="teach_round_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Draw this digit" not in {m.label for m in at.metric}
    assert any("30** of your drawings are saved (for this browser session only)" in m.value for m in at.markdown)
    assert not load_drawings(tmp_path / "drawings")  # nothing in the server's shared folder
    session_folders = list((tmp_path / "drawings" / "sessions").iterdir())
    assert len(session_folders) == 1 and len(load_drawings(session_folders[0])) == 30

    at.button(key="teach_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    from ui.resources import job_registry

    job = job_registry().get(at.session_state["teach_job_id"][0])
    assert job is not None and job.wait(300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["current_model"] == "default-taught-1"
    figures = {m.label: m for m in at.metric}
    assert {"Your drawings", "MNIST test digits"} <= set(figures)
    assert "+" in figures["Your drawings"].delta  # it reads the child's digits better than before
    assert "Taught **default-taught-1**" in at.success[0].value

    # The person who taught it may delete it (it was trained here); another browser session may not.
    at.switch_page("app_pages/train.py").run()
    at.selectbox(key="train_run_to_manage").set_value("default-taught-1").run()
    assert not at.button(key="train_delete").disabled
    other = AppTest.from_file(APP, default_timeout=180)
    other.run()
    other.switch_page("app_pages/train.py").run()
    other.selectbox(key="train_run_to_manage").set_value("default-taught-1").run()
    assert other.button(key="train_delete").disabled
