"""Taking snapshots of a network while it trains (see digits.snapshots): a Keras callback, like Keras's own
CSVLogger, that looks at the probe digits before training, at batches growing geometrically through the
first epoch, and after every epoch, and passes each snapshot to a plain callable.

A snapshot costs one forward pass over the 1,020 probe digits, a small SVD and a read of the weights:
benchmarks/snapshot_overhead.py measures what that adds to training.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from digits.data import normalise
from digits.learned import digit_patterns, family, first_layer_filters, first_layer_units
from digits.snapshots import (
    FEATURE_MAP_DIGIT,
    NetworkSnapshot,
    Probe,
    ProbeChosen,
    SnapshotTaken,
    first_epoch_steps,
    steady_projection,
)

UNITS_KEPT = 32  # of an MLP's first-layer units: two rows of pictures
HISTOGRAM_BINS = 30


def _as_float32(tensor: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(tensor, "float32")))


def weight_histograms(model: keras.Model) -> dict[str, np.ndarray] | None:
    """Each layer's weight matrix (kernel) as a histogram: (bins, 3) rows of left edge, right edge, count; None
    when a weight is not a finite number (the run diverged)."""
    histograms = {}
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            continue
        weights = _as_float32(kernel)
        if not np.isfinite(weights).all():
            return None
        counts, edges = np.histogram(weights, bins=HISTOGRAM_BINS)
        histograms[layer.name] = np.stack([edges[:-1], edges[1:], counts]).T.astype(np.float32)
    return histograms


class SnapshotRecorder(keras.callbacks.Callback):
    """Sends ``ProbeChosen(probe)`` when training begins, then a ``SnapshotTaken`` before the first batch, after
    each of ``first_epoch_steps(steps_per_epoch)`` and at every epoch's end, to ``send``.

    A run that carries on (digits.checkpoints) passes its last snapshot as ``carries_on_from``: the count of steps
    goes on from it, the map keeps its orientation, and the snapshot it already has is not taken again."""

    def __init__(self, probe: Probe, send: Callable[[ProbeChosen | SnapshotTaken], None], steps_per_epoch: int,
                 carries_on_from: NetworkSnapshot | None = None) -> None:
        super().__init__()
        self.probe = probe
        self.send = send
        self.steps_per_epoch = steps_per_epoch
        self.carries_on_from = carries_on_from
        self._early_steps = set(first_epoch_steps(steps_per_epoch))
        self._inputs = normalise(probe.images)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        last = self.carries_on_from
        self._epoch, self._step = (round(last.epoch), last.step) if last else (0, 0)
        self._previous_points = np.asarray(last.map_points, np.float32) if last else None
        model = self.model
        looks_at = [model.layers[-1].input, model.outputs[0]]  # the last hidden layer, and the answers
        self._convolutional = family(model) == "cnn"
        if self._convolutional:
            looks_at.append(next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)).output)
        look = keras.Model(model.inputs[0], looks_at)

        def look_at(images: tf.Tensor) -> list[tf.Tensor]:
            outputs = look(images, training=False)
            # One digit's feature maps are shown: copying out all 1,020 digits' (13 MB) took 15 ms a snapshot.
            return [*outputs[:2], outputs[2][FEATURE_MAP_DIGIT]] if self._convolutional else outputs

        # As a graph: a third of the time of an eager call (a small CNN: 18 ms against 40 on 1,020 digits), a
        # saving that counts ten times in a CNN's 15 s of training.
        self._look = tf.function(look_at)
        self.send(ProbeChosen(self.probe))
        if last is None:
            self.take()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._step += 1
        if self._epoch == 0 and batch + 1 in self._early_steps:
            self.take()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.take()

    def take(self) -> None:
        """Look at the network now and send what it shows."""
        outputs = self._look(self._inputs)
        features, probabilities = _as_float32(outputs[0]), _as_float32(outputs[1])
        histograms = weight_histograms(self.model)
        # A diverged run (TerminateOnNaN ends it) leaves nothing to see and no map to draw. Its weights tell:
        # compiled, a layer's matrix product and ReLU may turn NaN into 0, so its answers can look finite.
        if histograms is None or not (np.isfinite(features).all() and np.isfinite(probabilities).all()):
            return
        answers = probabilities.argmax(axis=1).astype(np.uint8)
        confidence = probabilities.max(axis=1).astype(np.float16)
        points = steady_projection(features[len(self.probe.strip_labels):], self._previous_points)
        self._previous_points = points
        strip = len(self.probe.strip_labels)
        pictures: dict[str, np.ndarray] = {}
        if self._convolutional:
            maps = _as_float32(outputs[2])  # (height, width, channels)
            peak = maps.max()
            pictures["filters"] = first_layer_filters(self.model).astype(np.float16)
            pictures["feature_maps"] = np.moveaxis((maps / peak if peak > 0 else maps) * 255, -1, 0).round() \
                .astype(np.uint8)
        else:
            pictures["patterns"] = digit_patterns(self.model, self.probe.map_images, self.probe.map_labels) \
                .astype(np.float16)
            pictures["units"] = first_layer_units(self.model)[:UNITS_KEPT].astype(np.float16)
        done_in_epoch = self._step - self._epoch * self.steps_per_epoch
        self.send(SnapshotTaken(NetworkSnapshot(
            step=self._step,
            epoch=round(self._epoch + done_in_epoch / self.steps_per_epoch, 4),
            strip_answers=answers[:strip], strip_confidence=confidence[:strip],
            map_points=points.astype(np.float16), map_answers=answers[strip:],
            histograms=histograms,
            **pictures,
        )))
