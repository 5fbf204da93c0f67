from __future__ import annotations

import gzip
import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

from digits.data import (
    CANONICAL_SHA256,
    IDX_FILES,
    DataError,
    Mnist,
    load_idx_dir,
    load_mnist,
    load_npz,
    normalise,
    parse_idx,
)


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_dir(directory: Path, data: Mnist, *, gzipped: bool) -> dict[str, str]:
    """Write ``data`` as the four IDX files; return their SHA-256 as the loader would check them."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {"train_images": data.x_train, "train_labels": data.y_train,
              "test_images": data.x_test, "test_labels": data.y_test}
    checksums = {}
    for key, stem in IDX_FILES.items():
        raw = idx_bytes(arrays[key])
        checksums[stem] = hashlib.sha256(raw).hexdigest()
        if gzipped:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (directory / stem).write_bytes(raw)
    return checksums


@pytest.mark.parametrize("gzipped", [True, False])
def test_idx_files_round_trip(tmp_path: Path, sample: Mnist, gzipped: bool) -> None:
    checksums = write_idx_dir(tmp_path, sample, gzipped=gzipped)
    loaded = load_idx_dir(tmp_path, checksums)
    np.testing.assert_array_equal(loaded.x_train, sample.x_train)
    np.testing.assert_array_equal(loaded.y_test, sample.y_test)
    assert loaded.fingerprint == sample.fingerprint


def test_idx_checksum_mismatch_is_refused(tmp_path: Path, sample: Mnist) -> None:
    write_idx_dir(tmp_path, sample, gzipped=True)
    with pytest.raises(DataError, match="not the canonical MNIST file"):
        load_idx_dir(tmp_path, CANONICAL_SHA256)


def test_truncated_idx_file_is_named(tmp_path: Path, sample: Mnist) -> None:
    write_idx_dir(tmp_path, sample, gzipped=False)
    path = tmp_path / IDX_FILES["train_images"]
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated") as caught:
        load_idx_dir(tmp_path, checksums=None)
    assert str(path) in str(caught.value)


def test_damaged_gzip_is_named(tmp_path: Path, sample: Mnist) -> None:
    write_idx_dir(tmp_path, sample, gzipped=True)
    path = tmp_path / (IDX_FILES["test_labels"] + ".gz")
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DataError, match="damaged gzip"):
        load_idx_dir(tmp_path, checksums=None)


def test_missing_idx_file_is_named(tmp_path: Path, sample: Mnist) -> None:
    write_idx_dir(tmp_path, sample, gzipped=True)
    (tmp_path / (IDX_FILES["test_images"] + ".gz")).unlink()
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        load_idx_dir(tmp_path, checksums=None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "too short"),
        (b"\x00\x00\x08\x99" + b"\x00" * 8, "not an MNIST IDX file"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x01", "header"),
    ],
)
def test_parse_idx_rejects_garbage(raw: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_idx(raw)


def test_labels_out_of_range_are_refused(tmp_path: Path, sample: Mnist) -> None:
    bad = Mnist(sample.x_train, np.full_like(sample.y_train, 12), sample.x_test, sample.y_test, "x")
    checksums = write_idx_dir(tmp_path, bad, gzipped=False)
    with pytest.raises(DataError, match="labels go up to 12"):
        load_idx_dir(tmp_path, checksums)


def test_npz_round_trip_and_problems(tmp_path: Path, sample: Mnist) -> None:
    good = tmp_path / "good.npz"
    np.savez(good, x_train=sample.x_train, y_train=sample.y_train, x_test=sample.x_test, y_test=sample.y_test)
    assert load_npz(good).x_test.shape == (500, 28, 28)

    missing = tmp_path / "missing.npz"
    np.savez(missing, x_train=sample.x_train, y_train=sample.y_train)
    with pytest.raises(DataError, match="lacks the array"):
        load_npz(missing)

    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(DataError, match="cannot be read"):
        load_npz(corrupt)

    wrong_shape = tmp_path / "wrong.npz"
    np.savez(wrong_shape, x_train=sample.x_train.reshape(-1, 784), y_train=sample.y_train,
             x_test=sample.x_test, y_test=sample.y_test)
    with pytest.raises(DataError, match=r"expected \(N, 28, 28\)"):
        load_npz(wrong_shape)


def test_load_mnist_reads_the_environment(sample_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))
    assert load_mnist(allow_keras=False).x_train.shape == (1000, 28, 28)


def test_no_source_names_every_place_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError) as caught:
        load_mnist(allow_keras=False)
    message = str(caught.value)
    assert "DIGITS_DATA_DIR=" in message and "nowhere" in message
    assert "Fix:" in message


def test_normalise_scales_to_unit_floats() -> None:
    out = normalise(np.array([[0, 255]], dtype=np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 1.0]])


def test_full_mnist_loads_fast_and_matches_known_facts(full_mnist_dir: Path) -> None:
    started = time.perf_counter()
    data = load_mnist(full_mnist_dir, allow_keras=False)
    seconds = time.perf_counter() - started
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert np.bincount(data.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(data.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert data.y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert data.x_train.mean() == pytest.approx(33.318, abs=1e-3)
    print(f"full MNIST loaded in {seconds:.2f} s")
