"""Shared fixtures and helpers: a real MNIST sample committed with the tests, an isolated model store, the app in
Chromium (a server, a browser, a page: a module with its own ``server`` fixture overrides this one), and small
things several test modules build (a canvas of a digit, a hand-built model of known answers)."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digits.data import IMAGE_SIZE, Mnist, load_npz
from digits.example_cache import CACHE_DIR_ENV
from digits.predict import NOT_A_DIGIT
from digits.store import ModelStore, RunRecord
from digits.unipen import drawn_digits_path
from harness.browser import app_env, chromium, chromium_page, streamlit_server

TESTS_DIR = Path(__file__).parent
SAMPLE_NPZ = TESTS_DIR / "data" / "mnist_sample.npz"
PROJECT_ROOT = TESTS_DIR.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
DRAWN_1000 = drawn_digits_path()  # $DIGITS_DRAWN_DATA, else the digits shipped with the app
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


@pytest.fixture(scope="session", autouse=True)
def shared_example_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache of rendered examples for the whole session, never the user's: the runs that learn what is not a
    digit (pages, library, browser; they inherit the environment) draw their doodles once between them."""
    folder = tmp_path_factory.mktemp("example-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_ENV, str(folder))
        yield folder


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty model store, so none sees another's runs."""
    store = tmp_path / "models"
    monkeypatch.setenv("DIGITS_MODELS_DIR", str(store))
    return store


@pytest.fixture(scope="session")
def trained_mlp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of a 3-epoch MLP trained on the sample through the app's own engine, once per session: tests that
    need a trained run copy it into their store."""
    from digits.background.engine_local import LocalJob
    from digits.background.tasks import TrainTask
    from digits.models import default_hyperparameters

    store = ModelStore(tmp_path_factory.mktemp("trained"), builtin=None)
    job = LocalJob(TrainTask(default_hyperparameters("mlp", epochs=3, batch_size=100), "mlp", load_sample),
                   store).start()
    assert job.wait(120) and job.snapshot().status == "finished", job.snapshot().error
    return store.root / "mlp"


@pytest.fixture(scope="session")
def full_mnist_dir() -> Path:
    """The canonical MNIST files beside the project, when this machine has them."""
    directory = Path(os.environ.get("DIGITS_DATA_DIR") or SHARED_DATA / "mnist")
    if not (directory / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"full MNIST not available at {directory}")
    return directory


def tiny_split(data: Mnist, train: int = 200, test: int = 100) -> Mnist:
    return Mnist(data.x_train[:train], data.y_train[:train], data.x_test[:test], data.y_test[:test], data.source)



@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app, served by a real ``streamlit run`` with the shipped default model and an empty store."""
    with streamlit_server(app_env(tmp_path_factory.mktemp("app"))) as running:
        yield running.url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as running:
        yield running


@pytest.fixture
def page(browser, server: str) -> Iterator[object]:
    """A page of its own (a new browser session) in ``browser``, with ``server`` running."""
    with chromium_page(browser) as page:
        yield page


def as_canvas(image: np.ndarray) -> np.ndarray:
    """A 28x28 digit drawn large on the Draw page's 280x280 canvas (white ink on opaque black)."""
    grey = np.asarray(Image.fromarray(image).resize((280, 280), Image.Resampling.BILINEAR))
    rgba = np.empty((280, 280, 4), dtype=np.uint8)
    rgba[..., :3] = grey[..., np.newaxis]
    rgba[..., 3] = 255
    return rgba


ONE = 1
GAIN = 0.2  # per inked pixel: a bar of about 50 pixels gives a logit of about 10


def hand_built(outputs: int):
    """Flatten -> Dense(outputs, softmax) that reads a vertical bar as 1 and takes a horizontal bar for "not a
    digit" (with 11 outputs) or spreads it evenly over 5..9 (with 10, so that no digit is likely)."""
    import keras

    vertical = np.zeros((IMAGE_SIZE, IMAGE_SIZE), bool)
    vertical[:, 12:16] = True
    vertical[11:17] = False  # the centre, where both bars cross, says nothing
    horizontal = vertical.T.ravel()
    weights = np.zeros((IMAGE_SIZE * IMAGE_SIZE, outputs), np.float32)
    weights[vertical.ravel(), ONE] = GAIN
    if outputs > NOT_A_DIGIT:
        weights[horizontal, NOT_A_DIGIT] = GAIN
    else:
        weights[np.ix_(horizontal, [5, 6, 7, 8, 9])] = GAIN
    layer = keras.layers.Dense(outputs, activation="softmax")
    model = keras.Sequential([keras.Input((IMAGE_SIZE, IMAGE_SIZE)), keras.layers.Flatten(), layer])
    layer.set_weights([weights, np.zeros(outputs, np.float32)])
    return model


def save_hand_built(store_dir: Path, name: str, outputs: int, not_a_digit: dict | None = None) -> None:
    record = RunRecord(name=name, created="2026-11-27T00:00:00+00:00", hyperparameters={"model": "mlp"},
                       history={}, test={}, training_seconds=0.0, data_fingerprint="hand-built",
                       not_a_digit=not_a_digit or {})
    ModelStore(store_dir, builtin=None).save(hand_built(outputs), record)
