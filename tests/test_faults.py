"""Faults and hostile input: nothing lost, nothing executed, a clear message every time."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import keras
import pytest

from conftest import PROJECT_ROOT, SAMPLE_NPZ, load_sample
from digits.background.engine_local import LocalJob
from digits.background.tasks import TrainTask
from digits.data import Mnist
from digits.models import default_hyperparameters
from digits.store import RECORD_FILE, ModelStore, StoreError
from harness.browser import child_pids, process_cpu_seconds


def test_a_model_that_cannot_be_saved_is_kept_for_download(sample: Mnist, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    store = ModelStore(blocker / "models", builtin=None)  # every write fails, as on a full or read-only disk
    job = LocalJob(TrainTask(default_hyperparameters("mlp", epochs=1), "doomed", load_sample), store).start()
    assert job.wait(120)
    snapshot = job.snapshot()
    assert snapshot.status == "unsaved" and "Cannot write" in (snapshot.error or "")
    assert snapshot.record is not None and snapshot.record.test["count"] == 500
    downloaded = tmp_path / "downloaded.keras"
    assert job.model_file is not None
    downloaded.write_bytes(job.model_file)
    reloaded = keras.saving.load_model(downloaded, compile=False, safe_mode=True)
    assert reloaded.predict(sample.x_test[:3] / 255.0, verbose=0).shape == (3, 10)


def test_a_model_file_carrying_code_is_refused(sample: Mnist, tmp_path: Path) -> None:
    store = ModelStore(tmp_path, builtin=None)
    run = tmp_path / "sneaky"
    run.mkdir()
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Lambda(lambda x: x * 2),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    model.save(run / "model.keras")
    (run / RECORD_FILE).write_text(json.dumps({"name": "sneaky", "created": "2026-01-01T00:00:00+00:00",
                                               "hyperparameters": {}, "history": {}, "test": {},
                                               "training_seconds": 1, "data_fingerprint": "x"}))
    with pytest.raises(StoreError, match="sneaky"):
        store.load("sneaky")


TRAINING_CPU_SECONDS = 5.0  # past importing TensorFlow and loading the digits: training


def test_server_killed_mid_training_leaves_earlier_runs_and_no_half_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(SAMPLE_NPZ, data / "mnist.npz")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DIGITS_DATA_DIR": str(data),
           "DIGITS_MODELS_DIR": str(tmp_path / "models")}
    command = [sys.executable, "-m", "digits", "train", "--batch-size", "16"]
    subprocess.run([*command, "--epochs", "1", "--name", "earlier"], cwd=PROJECT_ROOT, env=env, check=True,
                   capture_output=True, timeout=180)
    victim = subprocess.Popen([*command, "--epochs", "100", "--name", "victim"], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Well into training: its own process has started and done a few seconds of work (TensorFlow, the data).
    deadline = time.monotonic() + 120
    while not (trainers := child_pids(victim.pid)) or process_cpu_seconds(trainers[0]) < TRAINING_CPU_SECONDS:
        assert victim.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no training process started within 120 s"
        time.sleep(0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    deadline = time.monotonic() + 10
    while any(map(running, trainers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(running, trainers)), "the training process outlived its server"
    store = ModelStore(tmp_path / "models", builtin=None)
    assert [run.name for run in store.list()] == ["earlier"]
    assert store.load("earlier") is not None
    visible = [path.name for path in (tmp_path / "models").iterdir() if not path.name.startswith(".")]
    assert visible == ["earlier"]


def running(pid: int) -> bool:
    """Alive, and not a zombie waiting for whoever adopted it to collect its exit status."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_streamlit_settings_keep_xsrf_protection_and_cap_uploads() -> None:
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"].get("enableXsrfProtection", True) is True
    assert 0 < config["server"]["maxUploadSize"] <= 50


# The only modules that write HTML themselves, each from nothing a person typed: fixed style sheets (small screens,
# the presenter view), a number read from a drawing and escaped (the presenter's answer), and test digits' labels
# and answers, which are digits (the network's strip).
HTML_WRITERS = {"small_screens.py", "presenter.py", "inside_view.py"}


def test_pages_never_render_raw_html() -> None:
    for path in [PROJECT_ROOT / "streamlit_app.py", *sorted((PROJECT_ROOT / "app_pages").glob("*.py")),
                 *sorted((PROJECT_ROOT / "ui").glob("*.py"))]:
        text = path.read_text()
        assert "unsafe_allow_html" not in text, path
        assert "st.html(" not in text or path.name in HTML_WRITERS, path
