from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import PROJECT_ROOT
from digits.cli import main
from digits.data import Mnist


@pytest.fixture
def cli_env(sample_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))
    return sample_data_dir


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run trained through the CLI, shared by the tests that only read it."""
    store = tmp_path_factory.mktemp("cli-models")
    data = tmp_path_factory.mktemp("cli-data")
    (data / "mnist.npz").write_bytes((PROJECT_ROOT / "tests" / "data" / "mnist_sample.npz").read_bytes())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIGITS_MODELS_DIR", str(store))
        patch.setenv("DIGITS_DATA_DIR", str(data))
        assert main(["train", "--epochs", "3", "--batch-size", "32", "--name", "cli-run"]) == 0
    return store


def test_train_json_prints_the_run_record(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--epochs", "1", "--batch-size", "100", "--name", "json-run", "--json"]) == 0
    out = capsys.readouterr().out
    record = json.loads(out)
    assert record["name"] == "json-run" and record["hyperparameters"]["epochs"] == 1
    assert 0.0 < record["test"]["accuracy"] <= 1.0 and record["test"]["count"] == 500
    assert record["compute_dtype"] == "float32"  # the MLP's, whatever the machine


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_the_cnn_trains_in_the_forced_type_and_records_it(dtype: str, cli_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIGITS_COMPUTE_DTYPE", dtype)
    assert main(["train", "--model", "cnn", "--epochs", "1", "--name", f"cnn-{dtype}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["compute_dtype"] == dtype


def test_a_mistyped_compute_type_is_refused_before_training(cli_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIGITS_COMPUTE_DTYPE", "fp16")
    assert main(["train", "--model", "cnn", "--name", "never"]) == 2
    assert "DIGITS_COMPUTE_DTYPE must be float32 or bfloat16" in capsys.readouterr().err
    assert main(["list", "--json"]) == 0 and "never" not in capsys.readouterr().out


def test_list_evaluate_predict_and_delete(trained_store: Path, cli_env: Path, tmp_path: Path,
                                          sample: Mnist, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIGITS_MODELS_DIR", str(trained_store))
    assert main(["list", "--json"]) == 0
    names = [run["name"] for run in json.loads(capsys.readouterr().out)]
    assert names[0] == "cli-run" and set(names) <= {"cli-run", "default"}

    assert main(["evaluate", "cli-run", "--json"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert evaluation["count"] == 500 and evaluation["accuracy"] > 0.8
    assert np.array(evaluation["confusion_matrix"]).sum() == 500

    paths = []
    for index in range(3):
        path = tmp_path / f"digit{index}.png"
        Image.fromarray(sample.x_test[index]).save(path)
        paths.append(str(path))
    assert main(["predict", "--model", "cli-run", "--json", *paths]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["path"] for line in lines] == paths
    assert all(len(line["probabilities"]) == 10 and 0 <= line["digit"] <= 9 for line in lines)
    assert sum(line["digit"] == label for line, label in zip(lines, sample.y_test[:3], strict=True)) >= 2


def test_predict_reads_any_image_and_says_no_digit_for_a_blank_one(
        trained_store: Path, tmp_path: Path, sample: Mnist, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIGITS_MODELS_DIR", str(trained_store))
    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (300, 200), "white").save(blank)
    # A test digit as dark ink on white paper, ten times larger, with a wide margin.
    paper = Image.new("L", (600, 400), 255)
    paper.paste(Image.fromarray(255 - sample.x_test[0]).resize((280, 280)), (150, 60))
    photo = tmp_path / "paper.png"
    paper.save(photo)
    assert main(["predict", "--model", "cli-run", "--json", str(blank), str(photo)]) == 0
    blank_line, photo_line = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert blank_line["message"] == "no digit" and blank_line["digit"] is None
    assert photo_line["number"] == str(sample.y_test[0]) and photo_line["digit"] == sample.y_test[0]


def test_bad_input_exits_2_with_a_message(trained_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIGITS_MODELS_DIR", str(trained_store))
    gif = tmp_path / "digit.gif"
    Image.new("L", (28, 28)).save(gif)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    cases = [
        ["predict", "--model", "cli-run", str(gif)],
        ["predict", "--model", "cli-run", str(text)],
        ["predict", "--model", "cli-run", str(tmp_path / "missing.png")],
        ["predict", "--model", "no-such-run", str(text)],
        ["evaluate", "../../etc"],
        ["delete", "no-such-run"],
        ["train", "--epochs", "0"],
        ["train", "--model", "rnn"],
        ["frobnicate"],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        assert "error:" in capsys.readouterr().err


def test_missing_data_exits_1_naming_the_places_tried(tmp_path: Path) -> None:
    """A real process: the message, the exit code, and no traceback."""
    env = {"PATH": "/usr/bin:/bin", "DIGITS_DATA_DIR": str(tmp_path / "nothing-here"),
           "DIGITS_MODELS_DIR": str(tmp_path / "models"), "KERAS_HOME": str(tmp_path / "keras"),
           "HOME": str(tmp_path),
           # Keras's download goes through this dead proxy, so it fails fast even with internet.
           "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    result = subprocess.run([sys.executable, "-m", "digits", "train", "--epochs", "1"], cwd=PROJECT_ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "MNIST could not be loaded" in result.stderr and "nothing-here" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["trian"], "See: python -m digits --help"),
        (["train", "--epochs", "many"], "See: python -m digits train --help"),
    ],
)
def test_a_mistyped_command_points_to_the_right_help(
    argv: list[str], hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert hint in error
    assert "digits digits" not in error


def test_build_default_refuses_runs_it_cannot_average_before_training(
        trained_store: Path, cli_env: Path, isolated_store: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    shutil.copytree(trained_store / "cli-run", isolated_store / "cli-run")  # an MLP: not the default model's layers
    letters = PROJECT_ROOT / "assets" / "letters" / "unipen_letters_heldout.json.gz"
    assert main(["build-default", "--letters", str(letters), "--average-with", "cli-run",
                 "--output", str(tmp_path / "never-built")]) == 2
    assert "only runs of the same layers" in capsys.readouterr().err
    assert not (tmp_path / "never-built").exists()
