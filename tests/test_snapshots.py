"""Snapshots of a network while it learns: the probe digits, the steady map, the recorder in real training,
the file (its size limit, damage), and what a saved run keeps (snapshots, TensorBoard logs)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from conftest import load_sample, tiny_split
from digits import snapshots
from digits.background.engine_local import LocalJob
from digits.background.tasks import TrainTask
from digits.data import Mnist
from digits.inside_charts import digit_accuracy_bars, digit_map, learned_pictures, strip_picture
from digits.models import CONVOLUTION_FILTERS, FIRST_CONVOLUTION, default_hyperparameters
from digits.snapshots import (
    MAX_FILE_BYTES,
    NetworkSnapshot,
    Recording,
    SnapshotsDamaged,
    choose_probe,
    first_epoch_steps,
    steady_projection,
)
from digits.store import ModelStore
from digits.training import new_metrics, train, training_count


def record_training(data: Mnist, kind: str, **settings) -> Recording:
    from digits.snapshot_recorder import SnapshotRecorder

    hp = default_hyperparameters(kind, **settings)
    recording = Recording()
    metrics = new_metrics(hp, training_count(data, hp.validation_split))
    recorder = SnapshotRecorder(choose_probe(data.x_test, data.y_test), recording.receive, metrics.steps_per_epoch)
    train(hp, data, metrics, callbacks=[recorder])
    return recording


@pytest.fixture(scope="module")
def mlp_recording() -> Recording:
    return record_training(load_sample(), "mlp", epochs=3, batch_size=32)


def test_the_probe_is_the_same_for_every_run_and_covers_every_digit(sample: Mnist) -> None:
    probe = choose_probe(sample.x_test, sample.y_test)
    again = choose_probe(sample.x_test, sample.y_test)
    assert np.array_equal(probe.strip_images, again.strip_images) and np.array_equal(probe.map_images, again.map_images)
    assert list(probe.strip_labels) == [digit for digit in range(10) for _ in range(2)]
    assert probe.strip_images.dtype == np.uint8 and probe.strip_images.shape == (20, 28, 28)
    # The 500-digit sample has about 50 of each digit: all go on the map (full MNIST: 100 each).
    assert np.array_equal(np.bincount(probe.map_labels, minlength=10), np.bincount(sample.y_test, minlength=10))
    assert not np.array_equal(probe.strip_images[0], probe.strip_images[1])  # a typical and a hard one


def test_snapshots_come_often_in_the_first_epoch() -> None:
    assert first_epoch_steps(1500) == [23, 47, 94, 188, 375, 750]
    assert first_epoch_steps(8) == [1, 2, 4]  # never past the epoch's end, which has its own
    assert first_epoch_steps(1) == []


def test_the_projection_undoes_flips_swaps_and_turns(sample: Mnist) -> None:
    """The same digits' features, mirrored, their axes swapped or turned (what a fresh PCA may give for a
    slightly changed network), land where they were."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 16)) * np.linspace(3, 0.1, 16)
    previous = steady_projection(features)
    for change in (np.diag([-1.0] + [1.0] * 15), np.eye(16)[[1, 0, *range(2, 16)]],
                   np.linalg.qr(rng.normal(size=(16, 16)))[0]):
        moved = steady_projection(features @ change + rng.normal(scale=0.01, size=features.shape), previous)
        assert np.allclose(moved, previous, atol=0.05)


def test_consecutive_snapshots_keep_their_orientation(mlp_recording: Recording) -> None:
    """In real training, each snapshot's map lies the way the one before it lay: every axis correlates
    positively with its predecessor, and no mirrored or swapped version of it would lie closer."""
    points = [snapshot.map_points.astype(np.float64) for snapshot in mlp_recording.snapshots]
    for before, after in itertools.pairwise(points):
        for axis in range(2):
            assert np.corrcoef(before[:, axis], after[:, axis])[0, 1] > 0
        closeness = np.sum(before * after)
        for flip_x, flip_y, swap in itertools.product((1, -1), (1, -1), (False, True)):
            variant = after[:, ::-1] if swap else after
            variant = variant * np.array([flip_x, flip_y])
            assert closeness >= np.sum(before * variant) - 1e-6


def test_the_recorder_follows_the_schedule_and_sees_the_network_learn(mlp_recording: Recording) -> None:
    steps = 29  # 1,000 digits less a tenth held out, in batches of 32
    assert [snapshot.step for snapshot in mlp_recording.snapshots] == [0, *first_epoch_steps(steps), steps,
                                                                      2 * steps, 3 * steps]
    assert [snapshot.epoch for snapshot in mlp_recording.snapshots][-3:] == [1.0, 2.0, 3.0]
    probe = mlp_recording.probe
    first, last = mlp_recording.snapshots[0], mlp_recording.snapshots[-1]
    assert last.map_accuracy(probe.map_labels) > first.map_accuracy(probe.map_labels) + 0.4
    assert not np.array_equal(first.strip_answers, last.strip_answers)
    assert last.patterns.shape == (10, 28, 28) and last.units.shape == (32, 28, 28) and not last.convolutional
    assert len(last.histograms) == 2  # the two dense layers' weights
    assert all(histogram.shape == (30, 3) for histogram in last.histograms.values())


def test_a_cnn_snapshot_holds_its_filters_and_feature_maps(sample: Mnist) -> None:
    recording = record_training(tiny_split(sample, 300, 500), "cnn", epochs=1, batch_size=64)
    last = recording.snapshots[-1]
    filters, first = CONVOLUTION_FILTERS["cnn"][0], FIRST_CONVOLUTION["cnn"]
    side = 28 // first.stride
    assert last.convolutional and last.filters.shape == (filters, first.stencil, first.stencil)
    assert last.feature_maps.shape == (filters, side, side)
    assert last.feature_maps.max() == 255  # scaled to the brightest map
    assert [name for name, _, _ in learned_pictures(last, recording.probe)] == ["filters", "feature-maps"]


def test_pictures_and_figures_of_a_snapshot(mlp_recording: Recording) -> None:
    probe, snapshot = mlp_recording.probe, mlp_recording.snapshots[-1]
    strip = strip_picture(snapshot, probe)
    assert strip.shape[2] == 3 and strip.shape[1] > 20 * 56
    figure = digit_map(snapshot, probe)
    assert sum(len(trace.x) for trace in figure.data) == len(probe.map_labels)
    wrong = snapshot.map_answers != probe.map_labels
    # A wrong answer is a different shape, not just a colour; the legend shows each digit once.
    assert sum(len(trace.x) for trace in figure.data if trace.marker.symbol == "x") == np.sum(wrong)
    assert [trace.name for trace in figure.data if trace.showlegend] == [str(digit) for digit in range(10)]
    for trace in figure.data:
        assert all(probe.map_labels[index] == int(trace.name) for index in trace.customdata)
    assert list(digit_accuracy_bars(snapshot, probe).data[0].y) == list(snapshot.per_digit_accuracy(probe.map_labels))


def test_the_file_round_trips(mlp_recording: Recording, tmp_path: Path) -> None:
    snapshots.save(mlp_recording, tmp_path)
    loaded = snapshots.load(tmp_path, "run")
    assert loaded is not None and len(loaded.snapshots) == len(mlp_recording.snapshots)
    for original, again in zip(mlp_recording.snapshots, loaded.snapshots, strict=True):
        assert original.step == again.step and original.epoch == again.epoch
        assert np.array_equal(original.map_points, again.map_points)
        assert np.array_equal(original.units, again.units) and set(original.histograms) == set(again.histograms)
    assert np.array_equal(loaded.probe.map_images, mlp_recording.probe.map_images)


def _noisy_snapshot(rng: np.random.Generator, step: int, convolutional: bool) -> NetworkSnapshot:
    """A snapshot as large as a real one can get: random (incompressible) pictures."""
    pictures = ({"filters": rng.normal(size=(32, 3, 3)).astype(np.float16),
                 "feature_maps": rng.integers(0, 256, (32, 28, 28), dtype=np.uint8)} if convolutional else
                {"patterns": rng.normal(size=(10, 28, 28)).astype(np.float16),
                 "units": rng.normal(size=(32, 28, 28)).astype(np.float16)})
    return NetworkSnapshot(step=step, epoch=step / 100, strip_answers=rng.integers(0, 10, 20, dtype=np.uint8),
                           strip_confidence=rng.random(20).astype(np.float16),
                           map_points=rng.normal(size=(1000, 2)).astype(np.float16),
                           map_answers=rng.integers(0, 10, 1000, dtype=np.uint8),
                           histograms={f"layer{i}": rng.random((30, 3)).astype(np.float32) for i in range(4)},
                           **pictures)


@pytest.mark.parametrize("convolutional", [True, False])
def test_a_long_run_fits_the_size_limit(sample: Mnist, convolutional: bool) -> None:
    """A 30-epoch run (the slider's most: 37 snapshots) of random pictures fits whole; a longer one is
    thinned out evenly, keeping its first and last snapshots."""
    rng = np.random.default_rng(1)
    probe = choose_probe(sample.x_test, sample.y_test)
    thirty_epochs = Recording(probe, [_noisy_snapshot(rng, step, convolutional) for step in range(37)])
    content = snapshots.to_bytes(thirty_epochs)
    assert len(content) <= MAX_FILE_BYTES
    assert len(snapshots.from_bytes(content).snapshots) == 37
    hundreds = Recording(probe, [_noisy_snapshot(rng, step, convolutional) for step in range(101)])
    content = snapshots.to_bytes(hundreds, limit=2 * 2**20)
    kept = snapshots.from_bytes(content).snapshots
    assert len(content) <= 2 * 2**20 and 2 < len(kept) < 101
    assert kept[0].step == 0 and kept[-1].step == 100


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelStore, str]:
    """A run trained by a job in a process of its own, as the app and the CLI train, and saved."""
    store = ModelStore(tmp_path_factory.mktemp("models"), builtin=None)
    job = LocalJob(TrainTask(default_hyperparameters("mlp", epochs=2, batch_size=64), "watched", load_sample), store)
    job.start().wait()
    assert job.snapshot().status == "finished"
    assert len(job.recording().snapshots) == len(first_epoch_steps(15)) + 3
    return store, "watched"


def test_a_saved_run_keeps_its_snapshots(saved_run: tuple[ModelStore, str]) -> None:
    store, name = saved_run
    recording = snapshots.load(store.folder(name), name)
    assert recording is not None and [snapshot.epoch for snapshot in recording.snapshots][-2:] == [1.0, 2.0]


def test_tensorboard_reads_the_run_s_logs(saved_run: tuple[ModelStore, str]) -> None:
    """TensorBoard's own reader finds the per-epoch loss and accuracy, the histograms and the pictures."""
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import TENSORS, EventAccumulator

    store, name = saved_run
    record = store.record(name)
    logs = store.folder(name) / "logs"
    for part, prefix in (("train", ""), ("validation", "val_")):
        reader = EventAccumulator(str(logs / part), size_guidance={TENSORS: 0})
        reader.Reload()
        for figure in ("loss", "accuracy"):
            events = reader.Tensors(f"epoch_{figure}")
            assert [event.step for event in events] == [1, 2]
            values = [float(tf.make_ndarray(event.tensor_proto)) for event in events]
            assert values == pytest.approx(record.history[prefix + figure], rel=1e-6)
    tags = EventAccumulator(str(logs / "train"), size_guidance={TENSORS: 0}).Reload().Tags()["tensors"]
    assert "batch_loss" in tags and any(tag.startswith("weights/") for tag in tags)
    assert "strip: its answers" in tags


def test_a_run_trained_without_snapshots_says_it_has_none(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models", builtin=None)
    task = TrainTask(default_hyperparameters("mlp", epochs=1, batch_size=200), "plain", load_sample, snapshots=False)
    LocalJob(task, store).start().wait()
    assert store.record("plain").status == "finished"
    assert snapshots.load(store.folder("plain"), "plain") is None


@pytest.mark.parametrize("damage", [b"not a zip at all", None])
def test_a_damaged_snapshot_file_says_so_and_the_run_still_opens(mlp_recording: Recording, tmp_path: Path,
                                                                 damage: bytes | None) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    path = snapshots.save(mlp_recording, folder)
    path.write_bytes(damage if damage is not None else path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(SnapshotsDamaged, match=r"snapshots of run .mine. are damaged.*model itself is fine"):
        snapshots.load(folder, "mine")


def test_a_damaged_snapshot_file_leaves_the_saved_run_usable(saved_run: tuple[ModelStore, str]) -> None:
    store, name = saved_run
    path = store.folder(name) / snapshots.SNAPSHOT_FILE
    original = path.read_bytes()
    try:
        path.write_bytes(original[:1000])
        with pytest.raises(SnapshotsDamaged):
            snapshots.load(store.folder(name), name)
        assert store.record(name).test_accuracy is not None
        assert store.load(name).predict(np.zeros((1, 28, 28)), verbose=0).shape == (1, 10)
        assert [run.name for run in store.list()] == [name]
    finally:
        path.write_bytes(original)


def test_a_network_gone_to_nan_sends_no_snapshot(sample: Mnist) -> None:
    """A run that diverges ends as "diverged", not failed: the recorder passes over a network that answers NaN."""
    from digits.models import build_model
    from digits.snapshot_recorder import SnapshotRecorder

    model = build_model(default_hyperparameters("mlp"), 10)
    sent: list[object] = []
    recorder = SnapshotRecorder(choose_probe(sample.x_test, sample.y_test), sent.append, 10)
    recorder.set_model(model)
    recorder.on_train_begin()
    assert len(sent) == 2  # the probe, and the snapshot before training
    kernel, bias = model.layers[1].get_weights()
    model.layers[1].set_weights([np.full_like(kernel, np.nan), bias])
    recorder.on_epoch_end(0)
    assert len(sent) == 2
