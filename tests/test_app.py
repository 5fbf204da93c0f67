"""AppTest: the pages' controls and states, in-process, without a browser."""

from __future__ import annotations

import gc
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import PROJECT_ROOT, load_sample
from digits.background.jobs import Job
from digits.background.tasks import TrainTask
from digits.data import Mnist
from digits.models import default_hyperparameters
from digits.store import RECORD_FILE, ModelStore

APP = str(PROJECT_ROOT / "streamlit_app.py")


@pytest.fixture(autouse=True)
def sample_data(sample_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))


def app(page: str | None = None, current_model: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if current_model:
        at.session_state["current_model"] = current_model
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def train_run(trained_mlp: Path, name: str) -> str:
    """The session's trained MLP, saved in this test's store as ``name`` (each training is a process of its own
    and seconds of TensorFlow starting up: the pages need a trained run, not a new one each)."""
    folder = ModelStore().root / name
    shutil.copytree(trained_mlp, folder)
    record = folder / RECORD_FILE
    record.write_text(json.dumps({**json.loads(record.read_text()), "name": name}))
    return name


def wait_until_done(job: Job, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not job.snapshot().done and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.snapshot().done


def test_script_runs_leave_keras_state_alone() -> None:
    # Streamlit clears Keras's session after every script run unless the app stops it (ui/server.py); the
    # clearing restarts Keras's layer numbering, so a fresh layer's name shows whether it happened.
    import keras

    keras.layers.Dense(1)
    app()
    assert keras.layers.Dense(1).name != "dense"


def test_home_explains_the_app_and_lists_saved_runs(trained_mlp: Path) -> None:
    train_run(trained_mlp, "first-run")
    at = app()
    assert at.title[0].value == "digits"
    names = at.dataframe[0].value["Name"].tolist()
    current = at.sidebar.selectbox(key="sidebar_model").value
    assert f"▶ {current}" in names and "first-run" in {name.removeprefix("▶ ") for name in names}
    # Choosing another model in the sidebar moves the mark.
    at.sidebar.selectbox(key="sidebar_model").set_value("first-run").run()
    assert "▶ first-run" in at.dataframe[0].value["Name"].tolist()


def test_home_without_any_model_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ui.resources.store", lambda: ModelStore(builtin=None))
    at = app()
    assert "No model has been trained yet" in at.info[0].value


def test_train_page_controls_explain_themselves() -> None:
    at = app("app_pages/train.py")
    epochs = at.slider(key="train_epochs")
    assert epochs.label == "Epochs" and epochs.min == 1 and epochs.max == 30
    batch = at.select_slider(key="train_batch_size")
    assert batch.label == "Batch size" and batch.options == ["16", "32", "64", "128", "256", "512", "1024"]
    for widget in [epochs, batch, at.select_slider(key="train_learning_rate"), at.slider(key="train_dropout"),
                   at.toggle(key="train_augment"), at.toggle(key="train_not_a_digit"), at.radio(key="train_model"),
                   at.text_input(key="train_name")]:
        assert widget.help, f"{widget.label} has no help text"
    assert at.button(key="train_stop").disabled
    # Switching the kind of network loads that kind's defaults.
    at.radio(key="train_model").set_value("cnn").run()
    assert at.select_slider(key="train_batch_size").value == default_hyperparameters("cnn").batch_size
    assert at.text_input(key="train_name").value.startswith("cnn-")


def test_start_trains_shows_figures_saves_and_makes_it_current() -> None:
    at = app("app_pages/train.py")
    at.slider(key="train_epochs").set_value(2)
    at.select_slider(key="train_batch_size").set_value(128)
    at.text_input(key="train_name").set_value("from-the-page")
    at.button(key="train_start").click().run()
    assert not at.exception
    job_id = at.session_state["train_job_id"][0]
    from ui.resources import job_registry

    job = job_registry().get(job_id)
    assert job is not None
    assert at.button(key="train_start").disabled  # one run at a time per session
    wait_until_done(job)
    at.run()
    assert not at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Epoch"] == "2 / 2"
    assert float(metrics["Loss"]) > 0
    assert metrics["Accuracy"].endswith("%")
    assert "Saved as **from-the-page**" in at.success[0].value
    assert at.sidebar.selectbox(key="sidebar_model").value == "from-the-page"
    assert ModelStore().exists("from-the-page")
    assert at.query_params["job"] == job_id  # so a browser refresh finds the run again


def test_a_waiting_run_says_so_and_can_be_cancelled(sample: Mnist) -> None:
    from ui.resources import job_registry

    registry = job_registry()
    # Other people's long runs take every slot (stopped at the end, long before they would finish).
    long_run = default_hyperparameters("deep", epochs=100, batch_size=16)
    others = registry.submit_all("other people", [TrainTask(long_run, f"long-{n}", load_sample)
                                                  for n in range(registry.max_running)], ModelStore())
    try:
        at = app("app_pages/train.py")
        at.button(key="train_start").click().run()
        assert "Waiting for a free training slot" in at.info[0].value
        assert at.button(key="train_stop").label == "Cancel"
        at.button(key="train_stop").click().run()
        job = registry.get(at.session_state["train_job_id"][0])
        assert job is not None and job.wait(5)
        at.run()
        assert "Cancelled" in at.info[0].value
    finally:
        for other in others:
            other.stop()
        for other in others:
            other.wait(120)


def start_from_the_page(at: AppTest, name: str) -> Job:
    """Press Start on a Train page for a one-epoch run named ``name`` and wait until it is saved."""
    at.slider(key="train_epochs").set_value(1)
    at.select_slider(key="train_batch_size").set_value(128)
    at.text_input(key="train_name").set_value(name)
    at.button(key="train_start").click().run()
    from ui.resources import job_registry

    job = job_registry().get(at.session_state["train_job_id"][0])
    assert job is not None
    wait_until_done(job)
    at.run()
    return job


def test_saved_runs_offer_a_download_and_ask_before_deleting(trained_mlp: Path) -> None:
    train_run(trained_mlp, "run-a")
    at = app("app_pages/train.py")
    start_from_the_page(at, "run-b")
    assert at.dataframe[0].value["Name"].tolist()[:2] == ["run-b", "run-a"]
    at.selectbox(key="train_run_to_manage").set_value("run-b").run()
    assert at.get("download_button")  # every saved run can be downloaded
    at.button(key="train_delete").click().run()
    # A dialog asks first (its buttons rerun the dialog alone, which AppTest cannot: the browser test deletes).
    assert any("for good" in block.value for block in at.markdown)
    assert at.button(key="saved_delete_yes").label == "Yes, delete"
    assert [run.name for run in ModelStore().list() if run.name != "default"] == ["run-b", "run-a"]


def test_a_run_trained_in_one_session_cannot_be_deleted_from_another() -> None:
    trainer = app("app_pages/train.py")
    start_from_the_page(trainer, "mine")
    other = app("app_pages/train.py")
    other.selectbox(key="train_run_to_manage").set_value("mine").run()
    assert other.button(key="train_delete").disabled
    assert any("Only the person who trained **mine** can delete it" in caption.value for caption in other.caption)
    trainer.selectbox(key="train_run_to_manage").set_value("mine").run()
    assert not trainer.button(key="train_delete").disabled


def test_a_run_that_learns_what_is_not_a_digit_says_so_on_evaluate() -> None:
    at = app("app_pages/train.py")
    at.toggle(key="train_not_a_digit").set_value(True)
    start_from_the_page(at, "knows-doodles")
    record = ModelStore().record("knows-doodles")
    assert record.hp.not_a_digit and record.not_a_digit["method"] == "output"
    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception
    assert any("It learned what is not a digit" in text.value for text in at.markdown)


def test_settings_stay_put_across_pages_and_show_the_running_run() -> None:
    at = app("app_pages/train.py")
    at.slider(key="train_epochs").set_value(20)
    at.toggle(key="train_augment").set_value(True)
    at.toggle(key="train_not_a_digit").set_value(True)
    at.text_input(key="train_name").set_value("kept-name").run()
    at.switch_page("app_pages/draw.py").run()
    at.switch_page("app_pages/train.py").run()
    assert at.slider(key="train_epochs").value == 20
    assert at.toggle(key="train_augment").value is True
    assert at.toggle(key="train_not_a_digit").value is True
    assert at.text_input(key="train_name").value == "kept-name"


def test_evaluate_without_models_points_to_train(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("digits.store.BUILTIN_DEFAULT_DIR", tmp_path / "no-default")
    monkeypatch.setattr("ui.resources.store", lambda: ModelStore(builtin=None))
    at = app("app_pages/evaluate.py")
    assert "no trained model" in at.info[0].value


def test_evaluate_shows_figures_and_a_chosen_cell_fills_the_gallery(
    trained_mlp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIGITS_DRAWN_DATA", raising=False)  # the pen-drawn digits shipped with the app
    train_run(trained_mlp, "to-evaluate")
    at = app("app_pages/evaluate.py")
    at.selectbox(key="evaluate_run").set_value("to-evaluate").run()
    assert not at.exception
    figures = {metric.label: metric.value for metric in at.metric}
    assert figures["Test accuracy"].endswith("%")
    assert figures["Drawn digits read right"].endswith("%")
    assert figures["Mistakes"].endswith("of 500 wrong")
    wrong = int(figures["Mistakes"].split()[0])
    assert "Most frequent mistakes" in at.markdown[0].value or any(
        "taken for" in block.value for block in at.markdown)
    from ui.resources import evaluation, usable_runs

    run = next(run for run in usable_runs() if run.name == "to-evaluate")
    true, predicted, count = evaluation(run).confused_pairs(1)[0]
    at.selectbox(key="evaluate_true").set_value(str(true))
    at.selectbox(key="evaluate_predicted").set_value(str(predicted)).run()
    assert not at.exception
    headings = [block.value for block in at.markdown if "mistake" in block.value]
    assert any(f"{count} mistake" in heading for heading in headings), headings
    assert wrong >= count


def test_evaluate_takes_its_figures_from_the_test_probabilities_saved_with_the_run(
    trained_mlp: Path, sample: Mnist, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digits.evaluation import evaluate
    from digits.saved_probabilities import save_test_probabilities
    from digits.store import MODEL_FILE, load_model_file

    folder = ModelStore().root / train_run(trained_mlp, "read-once")
    save_test_probabilities(folder, sample)  # the test digits this app loads
    expected = evaluate(load_model_file(folder / MODEL_FILE, "read-once"), sample.x_test, sample.y_test)

    def reading_again(*args: object) -> None:
        raise AssertionError("Evaluate read the test digits again instead of taking the saved probabilities")

    monkeypatch.setattr("digits.saved_probabilities.evaluate", reading_again)
    at = app("app_pages/evaluate.py")
    at.selectbox(key="evaluate_run").set_value("read-once").run()
    assert not at.exception, [e.value for e in at.exception]
    figures = {metric.label: metric.value for metric in at.metric}
    assert figures["Test accuracy"] == f"{expected.accuracy:.2%}"
    assert figures["Test loss"] == f"{expected.loss:.4f}"
    assert figures["Mistakes"] == f"{expected.wrong:,} of 500 wrong"


def test_evaluate_survives_a_damaged_model_file(trained_mlp: Path) -> None:
    train_run(trained_mlp, "damaged")
    (ModelStore().root / "damaged" / "model.keras").write_bytes(b"not a model")
    at = app("app_pages/evaluate.py")
    at.selectbox(key="evaluate_run").set_value("damaged").run()
    assert not at.exception
    assert "cannot be used" in at.error[0].value


def canvas_returning(image: np.ndarray | None):
    return lambda key: image


def test_draw_reads_a_crafted_canvas_and_says_so_when_empty(trained_mlp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from digits.unipen import render_strokes

    blank = np.zeros((280, 280, 4), dtype=np.uint8)
    blank[..., 3] = 255
    monkeypatch.setattr("ui.canvas.drawing_canvas", canvas_returning(blank))
    at = app("app_pages/draw.py", current_model=train_run(trained_mlp, "reader"))
    assert {m.label: m.value for m in at.metric}["Prediction"] == "–"
    assert "Draw a digit" in at.info[0].value

    # A "7" drawn as two strokes, and "17" side by side.
    seven = [((200, 100), (800, 100), (450, 900)), ((300, 500), (700, 500))]
    one = [((500, 50), (500, 950))]
    monkeypatch.setattr("ui.canvas.drawing_canvas", canvas_returning(render_strokes(seven)))
    at.run()
    assert not at.exception
    figures = {m.label: m.value for m in at.metric}
    assert len(figures["Prediction"]) == 1 and figures["Confidence"].endswith("%")
    both = np.maximum(render_strokes(one, box=(20, 60, 120)), render_strokes(seven, box=(140, 60, 120)))
    monkeypatch.setattr("ui.canvas.drawing_canvas", canvas_returning(both))
    at.run()
    assert len({m.label: m.value for m in at.metric}["Prediction"]) == 2
    # Once a model has loaded, TensorFlow's long-lived objects are kept out of every full garbage
    # collection (ui/server.py), which otherwise stalls all sessions.
    assert gc.get_freeze_count() > 0


def test_draw_feedback_is_saved(trained_mlp: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from digits.feedback import load_drawings
    from digits.unipen import render_strokes

    monkeypatch.setenv("DIGITS_DRAWINGS_DIR", str(tmp_path / "drawings"))
    monkeypatch.setattr("ui.canvas.drawing_canvas",
                        canvas_returning(render_strokes([((500, 50), (500, 950))])))
    at = app("app_pages/draw.py", current_model=train_run(trained_mlp, "reader"))
    at.toggle(key="teach_keep_on_server").set_value(True).run()  # else drawings stay with the session
    at.text_input(key="draw_truth").set_value("1").run()
    at.button(key="draw_save").click().run()
    assert not at.exception
    saved = load_drawings(tmp_path / "drawings")
    assert [drawing.label for drawing in saved] == ["1"]
    assert len(list((tmp_path / "drawings").glob("*.png"))) == 1
    assert "Right on your drawings" in at.caption[-1].value


def test_missing_data_is_explained_on_the_pages(trained_mlp: Path, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    from ui.resources import _cached_mnist

    train_run(trained_mlp, "needs-data")
    monkeypatch.setenv("DIGITS_DATA_DIR", str(tmp_path / "gone"))
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")  # so Keras's download fails at once
    _cached_mnist.clear()
    try:
        at = app("app_pages/train.py")
        at.button(key="train_start").click().run()
        assert not at.exception
        assert "could not be loaded" in at.error[0].value and "gone" in at.error[0].value
        at = app("app_pages/evaluate.py")
        assert "could not be loaded" in at.error[0].value
    finally:
        _cached_mnist.clear()
