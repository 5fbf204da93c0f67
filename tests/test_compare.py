"""Races of settings: reading --vary, the runs' settings, the sentences, and the CLI's sweep."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT
from digits.background.jobs import JobStatus
from digits.compare import (
    RaceEntry,
    parse_vary,
    race_hyperparameters,
    race_sentences,
    value_label,
    varied_setting,
)
from digits.models import InvalidSetting
from digits.store import ModelStore


def test_vary_reads_a_setting_and_its_values() -> None:
    assert parse_vary("batch_size=32,256,1024") == ("batch_size", [32, 256, 1024])
    assert parse_vary("learning-rate=0.001, 0.01") == ("learning_rate", [0.001, 0.01])
    assert parse_vary("model=mlp,cnn") == ("model", ["mlp", "cnn"])
    assert parse_vary("augment=off,on") == ("augment", [False, True])


@pytest.mark.parametrize(("text", "message"), [
    ("colour=red,blue", "Cannot vary 'colour'"),
    ("batch_size=32,big", "'big' is not a whole number"),
    ("model=mlp,transformer", "'transformer' is not one of mlp, cnn, deep"),
    ("augment=on,maybe", "'maybe' is not on or off"),
])
def test_bad_vary_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidSetting, match=message):
        parse_vary(text)


def test_race_varies_one_setting_and_keeps_the_rest() -> None:
    settings = race_hyperparameters("mlp", "batch_size", [32, 256], epochs=2, batch_size=999)
    assert [hp.batch_size for hp in settings] == [32, 256]
    assert {hp.epochs for hp in settings} == {2} and {hp.model for hp in settings} == {"mlp"}
    kinds = race_hyperparameters("mlp", "model", ["mlp", "cnn"], epochs=1)
    assert [(hp.model, hp.batch_size) for hp in kinds] == [("mlp", 32), ("cnn", 256)]  # each kind's defaults


@pytest.mark.parametrize("values", [[32], [1, 2, 3, 4, 5], [32, 32]])
def test_a_race_needs_two_to_four_different_values(values: list[int]) -> None:
    with pytest.raises(InvalidSetting):
        race_hyperparameters("mlp", "batch_size", values)


def test_a_bad_value_is_refused_before_anything_starts() -> None:
    with pytest.raises(InvalidSetting, match="batch_size"):
        race_hyperparameters("mlp", "batch_size", [32, 0])


def test_sentences_say_who_was_most_accurate_fastest_and_what_went_wrong() -> None:
    def entry(label: str, accuracy: float | None, seconds: float | None, status=JobStatus.FINISHED) -> RaceEntry:
        return RaceEntry(label, label, status, accuracy, seconds, None)

    sentences = race_sentences([entry("batch size 32", 0.978, 30.0), entry("batch size 256", 0.971, 6.0),
                                entry("batch size 64", 0.975, 12.0),
                                entry("batch size 1024", None, None, JobStatus.DIVERGED)])
    assert sentences == [
        "Batch size 32 was the most accurate (97.80%), but took 5.0 times as long as the fastest.",
        "Batch size 256 was the fastest (6 s), but read 97.10% right, 0.70 points behind the best.",
        "Batch size 64 read 97.50% right, 0.30 points behind the best, and took 2.0 times as long as the fastest.",
        "Batch size 1024 went wrong: the loss blew up, so it learned nothing useful.",
    ]
    both = race_sentences([entry("CNN", 0.99, 5.0), entry("MLP", 0.97, 9.0)])
    assert both[0] == "CNN won on both counts: the most accurate (99.00%) and the fastest (5 s)."


def test_value_labels_read_as_text() -> None:
    assert value_label("batch_size", 256) == "batch size 256"
    assert value_label("learning_rate", 0.001) == "learning rate 0.001"
    assert value_label("model", "cnn") == "CNN"
    assert value_label("augment", True) == "varied digits on"


def test_cli_sweep_of_three_batch_sizes_finishes_and_saves_each_run(sample_data_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "sweep-models"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DIGITS_DATA_DIR": str(sample_data_dir),
           "DIGITS_MODELS_DIR": str(models)}
    done = subprocess.run([sys.executable, "-m", "digits", "sweep", "--model", "mlp", "--vary",
                           "batch_size=32,256,1024", "--epochs", "2", "--name", "race", "--json"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["setting"] == "batch_size" and result["values"] == [32, 256, 1024]
    assert [run["status"] for run in result["runs"]] == ["finished"] * 3
    assert len(result["summary"]) == 3 and all(sentence.endswith(".") for sentence in result["summary"])
    store = ModelStore(models, builtin=None)
    saved = {run.name: run.record for run in store.list()}
    assert sorted(saved) == ["race-batch-size-1024", "race-batch-size-256", "race-batch-size-32"]
    assert saved["race-batch-size-1024"].hp.batch_size == 1024 and saved["race-batch-size-32"].hp.epochs == 2
    # Smaller batches make more corrections per epoch: on 900 digits, batch 32 beats batch 1024 after 2 epochs.
    accuracy = {run["name"]: run["accuracy"] for run in result["runs"]}
    assert accuracy["race-batch-size-32"] > accuracy["race-batch-size-1024"]
    assert "[batch size 32] Epoch 2/2" in done.stderr


def test_cli_sweep_refuses_a_bad_setting_with_a_clear_message(sample_data_dir: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DIGITS_DATA_DIR": str(sample_data_dir)}
    done = subprocess.run([sys.executable, "-m", "digits", "sweep", "--vary", "batch_size=32"], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "2 to 4 values" in done.stderr and "Traceback" not in done.stderr


def test_race_chart_draws_each_runner_in_its_own_colour_against_time() -> None:
    from digits.charts import RACE_COLOURS, race_curves
    from digits.training import Metrics

    def runner(seconds_per_batch: float) -> Metrics:
        steps = 10
        return Metrics(epochs=2, steps_per_epoch=5, total_examples=100, batch_step=[s / 5 for s in range(1, steps + 1)],
                       batch_loss=[2.0 - s / 10 for s in range(steps)], batch_accuracy=[s / 10 for s in range(steps)],
                       batch_seconds=[seconds_per_batch * s for s in range(1, steps + 1)],
                       val_loss=[1.0, 0.5], val_accuracy=[0.8, 0.9])

    figure = race_curves({"batch size 32": runner(1.0), "batch size 256": runner(0.25), "batch size 1024": runner(0.1)})
    lines = [trace for trace in figure.data if trace.mode == "lines"]
    assert [trace.name for trace in lines if trace.showlegend] == ["batch size 32", "batch size 256", "batch size 1024"]
    assert {trace.line.color for trace in lines} == set(RACE_COLOURS[:3])
    diamonds = [trace for trace in figure.data if trace.name == "batch size 256, validation"]
    assert list(diamonds[0].x) == [1.25, 2.5]  # each epoch's validation at the time that epoch ended
    by_epoch = race_curves({"batch size 32": runner(1.0)}, by_time=False)
    assert list(by_epoch.data[1].x) == [1, 2] and by_epoch.data[0].x[-1] == pytest.approx(2.0)


def test_the_varied_setting_is_read_back_from_the_runs() -> None:
    assert varied_setting(race_hyperparameters("mlp", "batch_size", [32, 1024])) == "batch_size"
    assert varied_setting(race_hyperparameters("mlp", "model", ["mlp", "cnn"])) == "model"
    assert varied_setting(race_hyperparameters("cnn", "augment", [False, True], epochs=1)) == "augment"
