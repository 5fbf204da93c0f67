"""A model's probabilities on MNIST's test digits, saved beside it, so that its test figures need no TensorFlow.

On a server just started, the Evaluate page's first figures (test accuracy, confusion matrix, mistakes) waited
about 5 s for TensorFlow to import, the model to load and the 10,000 test digits to be read. Read once when the
run is saved and kept in its folder, they take milliseconds.

The digits are read exactly as ``digits.evaluation.evaluate`` reads them (one look, ``model.predict``), and kept
in float32, as the model gives them: every figure is the one that reading them again gives (float16 moved the
loss in its fifth digit and every mistake's confidence). The file names the test digits it was read on (their
fingerprint) and the model file that read them (its SHA-256): against other test digits, or a model file that
changed, it is stale, and ``evaluation_of_run`` reads the digits with the model instead, as it does for runs
saved before the file existed and when the file is damaged.
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from digits.data import NUM_CLASSES, Mnist
from digits.evaluation import Evaluation, evaluate, evaluation_from_probabilities, predict_probabilities
from digits.store import MODEL_FILE, load_model_file

if TYPE_CHECKING:
    import keras

PROBABILITIES_FILE = "test_probabilities.npz"
# What np.load and the zip and zlib readers under it raise for a file that is not a whole, readable .npz.
_DAMAGED = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error)


@dataclass(frozen=True)
class TestReading:
    """A model's probabilities on some test digits, and which digits (Mnist.test_fingerprint): what a task that
    tested its model sends back with it, to be saved beside it."""

    probabilities: np.ndarray
    test_fingerprint: str


class UnusableProbabilities(Exception):
    """The saved probabilities cannot stand for the model's reading: damaged, or read on other digits or by
    another model file. The message says which."""


def model_file_digest(folder: Path) -> str:
    """The SHA-256 of the run's model file: which model a saved reading came from."""
    return hashlib.sha256((folder / MODEL_FILE).read_bytes()).hexdigest()


def save_test_probabilities(folder: Path, data: Mnist) -> None:
    """Read ``data``'s test digits with the model saved in ``folder`` and save the probabilities beside it.

    StoreError when the model cannot be loaded; OSError when the file cannot be written."""
    model = load_model_file(folder / MODEL_FILE, folder.name)
    write_probabilities(folder, TestReading(predict_probabilities(model, data.x_test), data.test_fingerprint))


def write_probabilities(folder: Path, reading: TestReading) -> None:
    """Save ``reading``, made by the model in ``folder``. (Runs are written in a folder of their own before it
    appears in the store; a file left half written reads as damaged.)"""
    np.savez_compressed(folder / PROBABILITIES_FILE, probabilities=np.asarray(reading.probabilities, dtype=np.float32),
                        test_fingerprint=np.array(reading.test_fingerprint),
                        model_sha256=np.array(model_file_digest(folder)))


def saved_probabilities(folder: Path, data: Mnist) -> np.ndarray | None:
    """The saved reading of ``data``'s test digits by the model in ``folder``: (N, 10) or (N, 11) float32; None
    when none was saved (runs saved before it was); UnusableProbabilities when it cannot be used."""
    path = folder / PROBABILITIES_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            probabilities = saved["probabilities"]
            test_fingerprint, model_sha256 = saved["test_fingerprint"].item(), saved["model_sha256"].item()
    except _DAMAGED as error:
        raise UnusableProbabilities(f"are damaged ({type(error).__name__}: {error})") from error
    if probabilities.dtype != np.float32 or probabilities.ndim != 2 \
            or probabilities.shape[1] not in (NUM_CLASSES, NUM_CLASSES + 1):
        raise UnusableProbabilities(f"are not a model's probabilities ({probabilities.dtype}, {probabilities.shape})")
    if test_fingerprint != data.test_fingerprint or len(probabilities) != len(data.y_test):
        raise UnusableProbabilities(f"were read on other test digits than {data.source}'s")
    try:
        model_changed = model_sha256 != model_file_digest(folder)
    except OSError as error:
        raise UnusableProbabilities(f"have no model file to check against ({error.strerror or error})") from error
    if model_changed:
        raise UnusableProbabilities("were read by another model file than the one saved now")
    return probabilities


def evaluation_of_run(folder: Path, data: Mnist, load_model: Callable[[], keras.Model]) -> Evaluation:
    """The test figures of the run saved in ``folder``: from its saved probabilities when they are there and
    current, else by reading ``data``'s test digits with ``load_model()`` (StoreError when it cannot load).
    Either way the figures are the same."""
    try:
        probabilities = saved_probabilities(folder, data)
    except UnusableProbabilities as why:
        print(f"Reading the test digits with run {folder.name!r}'s model: its saved test probabilities {why}.",
              file=sys.stderr)
        probabilities = None
    if probabilities is None:
        return evaluate(load_model(), data.x_test, data.y_test)
    return evaluation_from_probabilities(probabilities, data.y_test)
