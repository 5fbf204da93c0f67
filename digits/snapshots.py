"""Snapshots of a network while it learns: what it has learned, how it answers a fixed strip of test digits,
where its last hidden layer puts about 1,000 test digits, and how well it reads each digit.

This module holds the data and its file (numpy only): taking snapshots during training is
digits.snapshot_recorder's work, drawing them digits.inside_charts'. Snapshots travel from the training
process to the app as messages (``ProbeChosen`` once, then a ``SnapshotTaken`` each), like the live figures,
and are saved with the run as one compressed ``snapshots.npz``, kept under MAX_FILE_BYTES.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from digits.data import NUM_CLASSES

SNAPSHOT_FILE = "snapshots.npz"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 4 * 2**20  # a 30-epoch run of either kind stays well under it; thinned out past it
STRIP_PER_DIGIT = 2  # one typical and one hard example of each digit: 20 in the strip
MAP_PER_DIGIT = 100  # 1,000 digits on the map
# When in the first epoch a snapshot is taken, as shares of it: most of the change happens early.
FIRST_EPOCH_SHARES = (1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2)
FEATURE_MAP_DIGIT = 14  # the strip's typical 7: strokes in two directions, for a CNN's feature maps
NOT_A_DIGIT_ANSWER = NUM_CLASSES  # the 11th output of a model that learned what is not a digit


class SnapshotsDamaged(Exception):
    """A run's snapshot file cannot be read; the run itself (model and record) is unaffected."""


@dataclass(frozen=True)
class Probe:
    """The test digits every snapshot of a run looks at (uint8 images, labels)."""

    strip_images: np.ndarray  # (20, 28, 28)
    strip_labels: np.ndarray  # (20,)
    map_images: np.ndarray  # (1000, 28, 28)
    map_labels: np.ndarray  # (1000,)

    @property
    def images(self) -> np.ndarray:
        """Every probe digit in one batch, the strip first: what a snapshot feeds the network once."""
        return np.concatenate([self.strip_images, self.map_images])


def choose_probe(x_test: np.ndarray, y_test: np.ndarray) -> Probe:
    """The strip and the map, the same for every run on the same test set.

    Strip: for each digit, its most typical test example (nearest its digit's mean image) and a hard one
    (at the 99th percentile of distance from it: unusual, yet still a fair example). Map: the first
    MAP_PER_DIGIT test examples of each digit."""
    x_test, y_test = np.asarray(x_test), np.asarray(y_test)
    strip, on_map = [], []
    for digit in range(NUM_CLASSES):
        indices = np.flatnonzero(y_test == digit)
        if len(indices) == 0:
            raise ValueError(f"the test set has no {digit}: snapshots need examples of every digit")
        images = x_test[indices].reshape(len(indices), -1).astype(np.float32)
        distance = np.linalg.norm(images - images.mean(axis=0), axis=1)
        order = np.argsort(distance)
        typical, hard = indices[order[0]], indices[order[min(round(0.99 * (len(order) - 1)), len(order) - 1)]]
        strip += [typical, hard]
        on_map.append(indices[:MAP_PER_DIGIT])
    on_map_all = np.concatenate(on_map)
    return Probe(strip_images=x_test[strip].astype(np.uint8), strip_labels=y_test[strip].astype(np.uint8),
                 map_images=x_test[on_map_all].astype(np.uint8), map_labels=y_test[on_map_all].astype(np.uint8))


def first_epoch_steps(steps_per_epoch: int) -> list[int]:
    """The batches of the first epoch after which a snapshot is taken (its end has one anyway)."""
    steps = {max(round(steps_per_epoch * share), 1) for share in FIRST_EPOCH_SHARES}
    return sorted(step for step in steps if step < steps_per_epoch)


PCA_ITERATIONS = 100


def main_directions(gram: np.ndarray) -> np.ndarray:
    """(d, 2): the two leading eigenvectors of a (d, d) symmetric ``gram`` matrix, by subspace iteration.

    Not np.linalg.svd or eigh: in a training process under load, LAPACK's threads waited on TensorFlow's
    (measured: an SVD of 1,000 x 128 features took 0.5-3 s instead of 0.02 s, a quarter of an MLP's training);
    these small matrix products do not."""
    basis = np.random.default_rng(0).normal(size=(gram.shape[0], 2))
    for _ in range(PCA_ITERATIONS):
        basis = gram @ basis
        first = basis[:, 0] / (np.linalg.norm(basis[:, 0]) or 1.0)
        second = basis[:, 1] - first * (first @ basis[:, 1])
        basis = np.stack([first, second / (np.linalg.norm(second) or 1.0)], axis=1)
    return basis


def steady_projection(features: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """(n, 2) points for (n, d) features: their two main directions (PCA), scaled to a mean distance of 1
    from the middle, then turned and mirrored to lie as close as possible to ``previous`` (the last
    snapshot's points for the same digits; orthogonal Procrustes), so points move from one snapshot to the
    next instead of jumping: no flipped signs, no swapped axes."""
    centred = np.asarray(features, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    if centred.shape[1] < 2:  # a single hidden unit: a line
        centred = np.pad(centred, ((0, 0), (0, 2 - centred.shape[1])))
    # einsum's own loop, not BLAS: after a product this size OpenBLAS's threads spin for a while, and in a
    # training process on 2 cores they took about 0.45 s from training at every snapshot (a CNN's 3 epochs
    # went from 16 s to 21.5 s).
    points = centred @ main_directions(np.einsum("ij,ik->jk", centred, centred))
    spread = np.sqrt(np.mean(np.sum(points**2, axis=1)))
    points = points / spread if spread > 0 else points
    if previous is not None:
        u, _, vt = np.linalg.svd(points.T @ np.asarray(previous, dtype=np.float64))
        points = points @ (u @ vt)
    return points


@dataclass(frozen=True)
class NetworkSnapshot:
    """The network at one moment. Pictures are float16 (or uint8) to keep a run's file small; the
    MLP's (``patterns``, ``units``) or the CNN's (``filters``, ``feature_maps``) are set, the others empty."""

    step: int  # batches trained so far, over all epochs
    epoch: float  # epochs trained so far, in fractions
    strip_answers: np.ndarray  # (20,) uint8: the digit it reads (NOT_A_DIGIT_ANSWER: "not a digit")
    strip_confidence: np.ndarray  # (20,) float16: its probability for that answer
    map_points: np.ndarray  # (1000, 2) float16: steady_projection of the last hidden layer
    map_answers: np.ndarray  # (1000,) uint8
    patterns: np.ndarray = field(default_factory=lambda: np.zeros((0, 28, 28), np.float16))  # (10, 28, 28)
    units: np.ndarray = field(default_factory=lambda: np.zeros((0, 28, 28), np.float16))  # (n, 28, 28)
    filters: np.ndarray = field(default_factory=lambda: np.zeros((0, 3, 3), np.float16))  # (n, k, k)
    feature_maps: np.ndarray = field(default_factory=lambda: np.zeros((0, 28, 28), np.uint8))  # of FEATURE_MAP_DIGIT
    # Each weight matrix's histogram, (bins, 3): left edge, right edge, count; by the layer's name.
    histograms: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def convolutional(self) -> bool:
        return len(self.filters) > 0

    def per_digit_accuracy(self, labels: np.ndarray) -> np.ndarray:
        """(10,): the share of the map's digits of each kind it reads right (``labels``: the probe's)."""
        right = self.map_answers == labels
        return np.array([right[labels == digit].mean() if np.any(labels == digit) else np.nan
                         for digit in range(NUM_CLASSES)])

    def map_accuracy(self, labels: np.ndarray) -> float:
        return float(np.mean(self.map_answers == labels))


@dataclass(frozen=True)
class ProbeChosen:
    """A task message: the digits the run's snapshots look at (sent once, before the first snapshot)."""

    probe: Probe


@dataclass(frozen=True)
class SnapshotTaken:
    """A task message: one more snapshot."""

    snapshot: NetworkSnapshot


@dataclass
class Recording:
    """A run's snapshots so far, and the digits they look at."""

    probe: Probe | None = None
    snapshots: list[NetworkSnapshot] = field(default_factory=list)

    def receive(self, message: ProbeChosen | SnapshotTaken) -> None:
        if isinstance(message, ProbeChosen):
            self.probe = message.probe
        else:
            self.snapshots.append(message.snapshot)

    def copy(self) -> Recording:
        """A copy that later snapshots do not change (the snapshots themselves never change)."""
        return Recording(self.probe, list(self.snapshots))

    def __bool__(self) -> bool:
        return self.probe is not None and bool(self.snapshots)


_ARRAY_FIELDS = [item.name for item in fields(NetworkSnapshot) if item.name not in ("step", "epoch", "histograms")]
_PROBE_FIELDS = [item.name for item in fields(Probe)]


def _encode(recording: Recording) -> bytes:
    assert recording.probe is not None
    arrays: dict[str, np.ndarray] = {f"probe.{name}": getattr(recording.probe, name) for name in _PROBE_FIELDS}
    described = []
    for index, snapshot in enumerate(recording.snapshots):
        for name in _ARRAY_FIELDS:
            arrays[f"{index}.{name}"] = getattr(snapshot, name)
        layers = list(snapshot.histograms)
        for number, layer in enumerate(layers):
            arrays[f"{index}.histogram.{number}"] = snapshot.histograms[layer]
        described.append({"step": snapshot.step, "epoch": snapshot.epoch, "histograms": layers})
    arrays["about"] = np.frombuffer(json.dumps({"version": FORMAT_VERSION, "snapshots": described}).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def thinned(snapshots: list[NetworkSnapshot]) -> list[NetworkSnapshot]:
    """Every other snapshot, keeping the first and the last (a run too long for the file keeps its shape)."""
    kept = snapshots[::2]
    return kept if kept[-1] is snapshots[-1] else [*kept, snapshots[-1]]


def to_bytes(recording: Recording, limit: int = MAX_FILE_BYTES) -> bytes:
    """The recording as the bytes of a snapshot file of at most ``limit`` bytes: when too large, snapshots are
    thinned out evenly (the first and the last stay). ValueError when even two snapshots do not fit."""
    if not recording:
        raise ValueError("nothing to save: the recording has no snapshots")
    while True:
        encoded = _encode(recording)
        if len(encoded) <= limit:
            return encoded
        if len(recording.snapshots) <= 2:
            raise ValueError(f"snapshots take {len(encoded):,} bytes even thinned out; the limit is {limit:,}")
        recording = Recording(recording.probe, thinned(recording.snapshots))


def from_bytes(content: bytes) -> Recording:
    """The recording ``to_bytes`` wrote; SnapshotsDamaged, saying why, for anything else."""
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as arrays:
            about = json.loads(arrays["about"].tobytes().decode())
            if about.get("version") != FORMAT_VERSION:
                raise SnapshotsDamaged(f"they are in format {about.get('version')!r}, which this version cannot read")
            probe = Probe(**{name: arrays[f"probe.{name}"] for name in _PROBE_FIELDS})
            snapshots = [
                NetworkSnapshot(
                    step=int(described["step"]), epoch=float(described["epoch"]),
                    histograms={layer: arrays[f"{index}.histogram.{number}"]
                                for number, layer in enumerate(described["histograms"])},
                    **{name: arrays[f"{index}.{name}"] for name in _ARRAY_FIELDS},
                )
                for index, described in enumerate(about["snapshots"])
            ]
    except SnapshotsDamaged:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise SnapshotsDamaged(f"{type(error).__name__}: {error}") from error
    if not snapshots:
        raise SnapshotsDamaged("the file holds no snapshot")
    return Recording(probe, snapshots)


def save(recording: Recording, folder: Path) -> Path:
    """Write ``recording`` into a run's ``folder`` (see to_bytes for the size limit)."""
    path = Path(folder) / SNAPSHOT_FILE
    path.write_bytes(to_bytes(recording))
    return path


def load(folder: Path, run_name: str) -> Recording | None:
    """The snapshots saved in a run's ``folder``; None when it has none (saved before snapshots existed, or
    trained without them); SnapshotsDamaged, naming the run, when the file cannot be read."""
    path = Path(folder) / SNAPSHOT_FILE
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SnapshotsDamaged(f"The snapshots of run {run_name!r} cannot be read ({error.strerror or error}); "
                               "the model itself is fine.") from error
    try:
        return from_bytes(content)
    except SnapshotsDamaged as error:
        raise SnapshotsDamaged(f"The snapshots of run {run_name!r} are damaged ({error}); the model itself is "
                               "fine, only the replay of its training is lost.") from error
