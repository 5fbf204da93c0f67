"""Shared fixtures: a real MNIST sample committed with the tests, and an isolated model store."""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import pytest

from digits.data import Mnist, load_npz

TESTS_DIR = Path(__file__).parent
SAMPLE_NPZ = TESTS_DIR / "data" / "mnist_sample.npz"
PROJECT_ROOT = TESTS_DIR.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
# The sample as a training job loads it, in a process of its own: a picklable loader.
load_sample = functools.partial(load_npz, SAMPLE_NPZ)


@pytest.fixture(scope="session")
def sample() -> Mnist:
    """1,000 training and 500 test digits: the first of each MNIST split."""
    return load_npz(SAMPLE_NPZ)


@pytest.fixture
def sample_data_dir(tmp_path: Path) -> Path:
    """A DIGITS_DATA_DIR holding the sample as a Keras-style mnist.npz."""
    directory = tmp_path / "data"
    directory.mkdir()
    shutil.copy(SAMPLE_NPZ, directory / "mnist.npz")
    return directory


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty model store, so none sees another's runs."""
    store = tmp_path / "models"
    monkeypatch.setenv("DIGITS_MODELS_DIR", str(store))
    return store


@pytest.fixture
def full_mnist_dir() -> Path:
    """The canonical MNIST files beside the project, when this machine has them."""
    directory = Path(os.environ.get("DIGITS_DATA_DIR") or SHARED_DATA / "mnist")
    if not (directory / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"full MNIST not available at {directory}")
    return directory


def tiny_split(data: Mnist, train: int = 200, test: int = 100) -> Mnist:
    return Mnist(data.x_train[:train], data.y_train[:train], data.x_test[:test], data.y_test[:test], data.source)

