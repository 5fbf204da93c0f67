"""Find, verify and load MNIST.

Sources are tried in order: the directory named by ``DIGITS_DATA_DIR`` (the four
IDX files, gzipped or not, or a Keras-style ``mnist.npz``), then Keras's own
``keras.datasets.mnist.load_data()`` (its cache, or a download). Whatever is
read is verified before anyone trains on it; a failure names every place tried.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR_ENV = "DIGITS_DATA_DIR"
IMAGE_SIZE = 28
NUM_CLASSES = 10

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# SHA-256 of the *decompressed* canonical files (LeCun, Cortes and Burges).
CANONICAL_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

_IDX_IMAGES_MAGIC = 0x00000803
_IDX_LABELS_MAGIC = 0x00000801


class DataError(Exception):
    """MNIST could not be found or what was found is not MNIST; the message says how to fix it."""


@dataclass(frozen=True)
class Mnist:
    """MNIST as uint8 images (ink bright on 0) and uint8 labels, with where it came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    # Cached: a run asks for it several times (its record, its checkpoints, a resume's check), and hashing 55 MB
    # takes about 0.1 s each time. The arrays of a loaded Mnist are never changed.
    @functools.cached_property
    def fingerprint(self) -> str:
        """A short SHA-256 of all four arrays: which data a saved model was trained on."""
        return _fingerprint(self.x_train, self.y_train, self.x_test, self.y_test)

    @functools.cached_property
    def test_fingerprint(self) -> str:
        """A short SHA-256 of the test digits and labels: which digits a saved reading of them was made on."""
        return _fingerprint(self.x_test, self.y_test)


def _fingerprint(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()[:16]


def normalise(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 -> float32 0..1, the scale every model here is trained on."""
    pixels = np.array(images, dtype=np.float32)  # one new array, divided in place: MNIST's 188 MB are not made twice
    pixels /= 255.0
    return pixels


def _read_maybe_gzipped(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zipfile.BadZipFile) as error:
            raise DataError(f"{path} is a damaged gzip file ({error}).") from error
    return raw


def parse_idx(raw: bytes, *, name: str = "IDX data") -> np.ndarray:
    """Parse an IDX file (images: magic 0x803, labels: 0x801) into a uint8 array."""
    if len(raw) < 8:
        raise DataError(f"{name} is too short to be an IDX file ({len(raw)} bytes).")
    magic = int.from_bytes(raw[0:4], "big")
    if magic not in (_IDX_IMAGES_MAGIC, _IDX_LABELS_MAGIC):
        raise DataError(f"{name} is not an MNIST IDX file (magic number {magic:#010x}).")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name} is truncated inside its header.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(
            f"{name} holds {len(raw)} bytes but its header promises {expected} "
            f"(shape {shape}): the file is truncated or damaged."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_idx_file(directory: Path, stem: str) -> Path | None:
    for candidate in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        path = directory / candidate
        if path.is_file():
            return path
    return None


def load_idx_dir(directory: Path, checksums: Mapping[str, str] | None = CANONICAL_SHA256) -> Mnist:
    """Read the four IDX files in ``directory``; with ``checksums``, insist they match them."""
    arrays: dict[str, np.ndarray] = {}
    missing = []
    for key, stem in IDX_FILES.items():
        path = _find_idx_file(directory, stem)
        if path is None:
            missing.append(stem + "[.gz]")
            continue
        raw = _read_maybe_gzipped(path)
        if checksums is not None and stem in checksums:
            actual = hashlib.sha256(raw).hexdigest()
            if actual != checksums[stem]:
                raise DataError(
                    f"{path} is not the canonical MNIST file: its SHA-256 is {actual[:16]}..., "
                    f"expected {checksums[stem][:16]}... Download it again."
                )
        arrays[key] = parse_idx(raw, name=str(path))
    if missing:
        raise DataError(f"{directory} lacks {', '.join(missing)}.")
    return verified(
        Mnist(arrays["train_images"], arrays["train_labels"], arrays["test_images"], arrays["test_labels"],
              source=str(directory)),
    )


def load_npz(path: Path) -> Mnist:
    """Read a Keras-style mnist.npz (x_train, y_train, x_test, y_test); never unpickles."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as error:
        raise DataError(f"{path} lacks the array {error}; expected x_train, y_train, x_test, y_test.") from error
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path} cannot be read as an .npz file ({error}).") from error
    return verified(Mnist(**arrays, source=str(path)))


def verified(data: Mnist) -> Mnist:
    """Check shapes, dtypes and label range; raise DataError naming the first problem."""
    problems = []
    for split in ("train", "test"):
        images, labels = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            problems.append(f"{split} arrays are {images.dtype}/{labels.dtype}, expected uint8")
        if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            problems.append(f"{split} images have shape {images.shape}, expected (N, 28, 28)")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            problems.append(f"{split} has {labels.shape} labels for {images.shape[0]} images")
        elif labels.size == 0:
            problems.append(f"{split} set is empty")
        elif labels.max() >= NUM_CLASSES:
            problems.append(f"{split} labels go up to {labels.max()}, expected 0..9")
    if problems:
        raise DataError(f"{data.source} is not MNIST: " + "; ".join(problems) + ".")
    return data


def _load_from_dir(directory: Path) -> Mnist:
    if not directory.is_dir():
        raise DataError(f"{directory} is not a directory.")
    npz = directory / "mnist.npz"
    has_idx = any(_find_idx_file(directory, stem) for stem in IDX_FILES.values())
    if npz.is_file() and not has_idx:
        return load_npz(npz)
    if not has_idx:
        raise DataError(f"{directory} holds neither the four MNIST IDX files nor a mnist.npz.")
    return load_idx_dir(directory)


def _load_from_keras() -> Mnist:
    import keras  # Deferred: importing TensorFlow costs seconds, and the local path needs none of it.

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # Keras raises bare Exception subclasses for network and cache errors.
        raise DataError(f"keras.datasets.mnist.load_data() failed: {error}") from error
    return verified(Mnist(x_train, y_train, x_test, y_test, source="keras.datasets.mnist"))


def load_mnist(data_dir: str | os.PathLike[str] | None = None, *, allow_keras: bool = True) -> Mnist:
    """Load MNIST from ``data_dir`` (default: $DIGITS_DATA_DIR), else through Keras.

    Raises DataError with one message that names every place tried and how to fix it.
    """
    attempts: list[str] = []
    directory = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    if directory:
        try:
            return _load_from_dir(Path(directory).expanduser())
        except DataError as error:
            attempts.append(f"{DATA_DIR_ENV}={directory}: {error}")
    else:
        attempts.append(f"{DATA_DIR_ENV} is not set")
    if allow_keras:
        try:
            return _load_from_keras()
        except DataError as error:
            attempts.append(str(error))
    raise DataError(
        "MNIST could not be loaded. Tried:\n"
        + "\n".join(f"  - {attempt}" for attempt in attempts)
        + f"\nFix: connect to the internet so Keras can download it, or set {DATA_DIR_ENV} to a folder "
        "holding the four MNIST IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) or a Keras mnist.npz."
    )
