"""The test probabilities saved beside a model: the figures they give are those reading the digits again gives,
and a missing, damaged or stale file falls back to reading them, never to an error or to another model's figures."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import hand_built, tiny_split
from digits.data import Mnist, load_mnist
from digits.evaluation import Evaluation, evaluate, evaluation_from_probabilities
from digits.saved_probabilities import (
    PROBABILITIES_FILE,
    UnusableProbabilities,
    evaluation_of_run,
    save_test_probabilities,
    saved_probabilities,
)
from digits.store import BUILTIN_DEFAULT_DIR, MODEL_FILE, ModelStore, load_model_file


@pytest.fixture
def run_folder(trained_mlp: Path, sample: Mnist, tmp_path: Path) -> Path:
    """A copy of a trained run whose saved probabilities are its reading of the sample's test digits."""
    folder = tmp_path / "mlp"
    shutil.copytree(trained_mlp, folder)
    save_test_probabilities(folder, sample)
    return folder


def model_never_loaded():
    raise AssertionError("the saved probabilities were usable: the model should not have been loaded")


def loader_counting(folder: Path, loads: list[int]):
    def load():
        loads.append(1)
        return load_model_file(folder / MODEL_FILE, folder.name)
    return load


def assert_same_figures(fast: Evaluation, slow: Evaluation) -> None:
    assert fast.accuracy == slow.accuracy and fast.loss == slow.loss and fast.count == slow.count
    np.testing.assert_array_equal(fast.confusion, slow.confusion)
    np.testing.assert_array_equal(fast.f1, slow.f1)
    assert fast.mistakes == slow.mistakes  # the same digits, in the same order, with the same confidence
    np.testing.assert_array_equal(fast.probabilities, slow.probabilities)


def test_saved_probabilities_give_the_figures_reading_the_digits_gives(run_folder: Path, sample: Mnist) -> None:
    fast = evaluation_of_run(run_folder, sample, model_never_loaded)
    slow = evaluate(load_model_file(run_folder / MODEL_FILE, "mlp"), sample.x_test, sample.y_test)
    assert fast.wrong > 0  # a real model's mistakes, so their order is compared too
    assert_same_figures(fast, slow)


def test_runs_saved_without_them_are_read_with_their_model(run_folder: Path, sample: Mnist) -> None:
    expected = evaluation_of_run(run_folder, sample, model_never_loaded)
    (run_folder / PROBABILITIES_FILE).unlink()
    assert saved_probabilities(run_folder, sample) is None
    loads: list[int] = []
    assert_same_figures(evaluation_of_run(run_folder, sample, loader_counting(run_folder, loads)), expected)
    assert loads == [1]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "bytes flipped", "empty"])
def test_a_damaged_file_falls_back_to_the_model_and_says_why(run_folder: Path, sample: Mnist, damage: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    expected = evaluation_of_run(run_folder, sample, model_never_loaded)
    path = run_folder / PROBABILITIES_FILE
    whole = path.read_bytes()
    middle = len(whole) // 2
    path.write_bytes({"garbage": b"not a file of probabilities", "truncated": whole[:middle], "empty": b"",
                      "bytes flipped": whole[:middle] + bytes(b ^ 0xFF for b in whole[middle:middle + 64])
                      + whole[middle + 64:]}[damage])
    with pytest.raises(UnusableProbabilities, match="damaged"):
        saved_probabilities(run_folder, sample)
    loads: list[int] = []
    assert_same_figures(evaluation_of_run(run_folder, sample, loader_counting(run_folder, loads)), expected)
    assert loads == [1]
    assert "saved test probabilities are damaged" in capsys.readouterr().err


def test_probabilities_read_on_other_test_digits_are_stale(run_folder: Path, sample: Mnist) -> None:
    fewer = tiny_split(sample, test=100)
    with pytest.raises(UnusableProbabilities, match="other test digits"):
        saved_probabilities(run_folder, fewer)
    loads: list[int] = []
    result = evaluation_of_run(run_folder, fewer, loader_counting(run_folder, loads))
    assert loads == [1] and result.count == 100


def test_probabilities_of_a_replaced_model_are_stale(run_folder: Path, sample: Mnist) -> None:
    hand_built(10).save(run_folder / MODEL_FILE)
    with pytest.raises(UnusableProbabilities, match="another model file"):
        saved_probabilities(run_folder, sample)
    # The figures are the new model's, not the saved ones of the model it replaced.
    replaced = evaluation_of_run(run_folder, sample, lambda: load_model_file(run_folder / MODEL_FILE, "mlp"))
    assert_same_figures(replaced, evaluate(hand_built(10), sample.x_test, sample.y_test))


def test_a_run_saved_by_the_app_carries_the_reading_it_was_tested_with(trained_mlp: Path, sample: Mnist) -> None:
    # Sent back by the task that tested it (no model loaded again to save it): its figures are the record's.
    probabilities = saved_probabilities(trained_mlp, sample)
    assert probabilities is not None
    record = ModelStore(trained_mlp.parent, builtin=None).record(trained_mlp.name)
    assert evaluation_from_probabilities(probabilities, sample.y_test).accuracy == record.test_accuracy


def test_the_shipped_probabilities_are_what_the_shipped_model_reads(sample: Mnist) -> None:
    # The sample's test digits are MNIST's first 500: the shipped file's first rows must be the model's reading of
    # them. Read again here, on whatever CPU runs the tests, the last bits may differ.
    with np.load(BUILTIN_DEFAULT_DIR / PROBABILITIES_FILE) as saved:
        shipped = saved["probabilities"]
    assert shipped.shape == (10_000, 11)
    model = load_model_file(BUILTIN_DEFAULT_DIR / MODEL_FILE, "default")
    np.testing.assert_allclose(shipped[:len(sample.y_test)], evaluate(model, sample.x_test, sample.y_test)
                               .probabilities, rtol=1e-4, atol=1e-6)


def test_the_shipped_probabilities_are_current_on_full_mnist(full_mnist_dir: Path) -> None:
    assert saved_probabilities(BUILTIN_DEFAULT_DIR, load_mnist(full_mnist_dir)) is not None
