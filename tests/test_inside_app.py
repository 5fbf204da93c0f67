"""AppTest: the Train page's "Inside the network" replays a saved run's snapshots in a fresh session, and says
so when a run has none or they are damaged."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import PROJECT_ROOT, load_sample
from digits import snapshots
from digits.background.engine_local import LocalJob
from digits.background.tasks import TrainTask
from digits.models import default_hyperparameters
from digits.snapshots import first_epoch_steps
from digits.store import ModelStore

APP = str(PROJECT_ROOT / "streamlit_app.py")


@pytest.fixture(autouse=True)
def sample_data(sample_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))


def train_run(name: str, keep_snapshots: bool = True) -> str:
    task = TrainTask(default_hyperparameters("mlp", epochs=2, batch_size=100), name, load_sample, keep_snapshots)
    job = LocalJob(task, ModelStore()).start()
    assert job.wait(180) and job.snapshot().status == "finished", job.snapshot().error
    return name


def train_page(replay: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/train.py")
    at.run()
    at.selectbox(key="inside_replay_run").set_value(replay).run()
    assert not at.exception, [error.value for error in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join([item.value for item in at.caption] + [item.value for item in at.markdown])


def test_a_saved_run_replays_its_snapshots_in_a_fresh_session() -> None:
    name = train_run("replayed")
    at = train_page(name)
    slider = at.select_slider(key=f"inside_saved_{name}_slider")
    # Before training, within the first epoch of 9 batches, and at the end of each of the 2 epochs.
    assert len(slider.options) == 1 + len(first_epoch_steps(9)) + 2
    assert slider.value == len(slider.options) - 1  # the last one first
    assert "after 18 batches (2.00 epochs)" in texts(at)
    last_strip = next(item.value for item in at.markdown if item.value.startswith("**Test digits it reads**"))
    slider.set_value(0).run()
    assert not at.exception
    assert "before training: random weights" in texts(at)
    first_strip = next(item.value for item in at.markdown if item.value.startswith("**Test digits it reads**"))
    assert first_strip != last_strip  # "(n of 20 right)" differs: the untrained network reads few right


def test_a_run_without_snapshots_says_so() -> None:
    name = train_run("plain", keep_snapshots=False)
    at = train_page(name)
    assert any("No snapshots were kept for **plain**" in item.value for item in at.info)


def test_damaged_snapshots_say_so_and_the_run_is_still_listed() -> None:
    name = train_run("damaged")
    (ModelStore().folder(name) / snapshots.SNAPSHOT_FILE).write_bytes(b"\x00" * 100)
    at = train_page(name)
    assert any("snapshots of run 'damaged' are damaged" in item.value for item in at.warning)
    assert name in at.dataframe[0].value["Name"].tolist()
