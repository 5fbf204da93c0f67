"""TensorBoard logs of a finished run, written beside its model (``logs/``), so that
``tensorboard --logdir models/`` shows every run as ML people expect: loss and accuracy per batch and per
epoch (training in ``logs/train``, validation in ``logs/validation``, Keras's own layout and tag names), each
weight matrix's histogram and the snapshot pictures at every snapshot.

Written from what reached the app (the live figures and the snapshots), not in the training process, so
training pays nothing for it and a Ray worker needs no shared disk. Written as TensorFlow's summary writer
writes them (Event protos in a TFRecord file, each value a tensor with its plugin's metadata), with
TensorBoard's own protos and record writer but without TensorFlow: importing it took the app (or the CLI)
about 2.5 s of a 2-core machine at the end of every run.
"""

from __future__ import annotations

import io
import os
import socket
import time
from pathlib import Path

import numpy as np
from PIL import Image
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.histogram import metadata as histogram_metadata
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.summary.writer.record_writer import RecordWriter
from tensorboard.util import tensor_util

from digits.inside_charts import learned_pictures, map_picture, strip_picture
from digits.snapshots import Recording
from digits.training import Metrics

LOGS_FOLDER = "logs"
# Each value says which TensorBoard plugin shows it (as tf.summary's scalar, histogram and image do).
SCALAR = scalar_metadata.create_summary_metadata("", "")
HISTOGRAM = histogram_metadata.create_summary_metadata("", "")
IMAGE = image_metadata.create_summary_metadata("", "")


class EventFile:
    """One TensorBoard event file in ``folder``, written from the start; ``close`` when done."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        # TensorBoard finds event files by "tfevents" in their name; the rest keeps two writers apart.
        name = f"events.out.tfevents.{time.time():.6f}.{socket.gethostname()}.{os.getpid()}.v2"
        self._records = RecordWriter(open(folder / name, "wb"))  # noqa: SIM115  # closed by close()
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def _write(self, event: event_pb2.Event) -> None:
        self._records.write(event.SerializeToString())

    def tensor(self, tag: str, step: int, value: np.ndarray, metadata: summary_pb2.SummaryMetadata) -> None:
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(
            tag=tag, tensor=tensor_util.make_tensor_proto(value), metadata=metadata)])
        self._write(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))

    def scalar(self, tag: str, step: int, value: float) -> None:
        self.tensor(tag, step, np.float32(value), SCALAR)

    def histogram(self, tag: str, step: int, buckets: np.ndarray) -> None:
        """``buckets``: (bins, 3) rows of left edge, right edge, count, as TensorBoard stores its own."""
        self.tensor(tag, step, np.asarray(buckets, np.float64), HISTOGRAM)

    def image(self, tag: str, step: int, picture: np.ndarray) -> None:
        """An RGB (height, width, 3) uint8 picture, stored as a PNG."""
        png = io.BytesIO()
        Image.fromarray(picture).save(png, format="PNG")
        height, width = picture.shape[:2]
        self.tensor(tag, step, np.array([str(width).encode(), str(height).encode(), png.getvalue()], dtype=object),
                    IMAGE)

    def close(self) -> None:
        self._records.close()


def write_logs(folder: Path, metrics: Metrics, recording: Recording) -> Path:
    """Write the run's logs under ``folder``/logs and return that folder."""
    logs = Path(folder) / LOGS_FOLDER
    train = EventFile(logs / "train")
    try:
        for step, (loss, accuracy) in enumerate(zip(metrics.batch_loss, metrics.batch_accuracy, strict=True), 1):
            train.scalar("batch_loss", step, loss)
            train.scalar("batch_accuracy", step, accuracy)
        for epoch, (loss, accuracy) in enumerate(zip(metrics.epoch_loss, metrics.epoch_accuracy, strict=True), 1):
            train.scalar("epoch_loss", epoch, loss)
            train.scalar("epoch_accuracy", epoch, accuracy)
        if recording:
            assert recording.probe is not None
            for snapshot in recording.snapshots:
                for layer, histogram in snapshot.histograms.items():  # computed where the run trained
                    train.histogram(f"weights/{layer}", snapshot.step, histogram)
                pictures = [("strip: its answers", strip_picture(snapshot, recording.probe)),
                            ("map of the digits", map_picture(snapshot, recording.probe)),
                            *[(title, picture) for _, title, picture in learned_pictures(snapshot, recording.probe)]]
                for title, picture in pictures:
                    train.image(title, snapshot.step, picture)
    finally:
        train.close()
    validation = EventFile(logs / "validation")
    try:
        for epoch, (loss, accuracy) in enumerate(zip(metrics.val_loss, metrics.val_accuracy, strict=True), 1):
            validation.scalar("epoch_loss", epoch, loss)
            validation.scalar("epoch_accuracy", epoch, accuracy)
    finally:
        validation.close()
    return logs
