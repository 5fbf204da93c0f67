"""TensorBoard logs of a finished run, written beside its model (``logs/``), so that
``tensorboard --logdir models/`` shows every run as ML people expect: loss and accuracy per batch and per
epoch (training in ``logs/train``, validation in ``logs/validation``, Keras's own layout and tag names), each
weight matrix's histogram and the snapshot pictures at every snapshot.

Written from what reached the app (the live figures and the snapshots), not in the training process, so
training pays nothing for it and a Ray worker needs no shared disk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from digits.inside_charts import learned_pictures, map_picture, strip_picture
from digits.snapshots import Recording
from digits.training import Metrics

LOGS_FOLDER = "logs"


def write_logs(folder: Path, metrics: Metrics, recording: Recording) -> Path:
    """Write the run's logs under ``folder``/logs and return that folder."""
    import tensorflow as tf
    from tensorboard.plugins.histogram import metadata as histogram_metadata

    logs = Path(folder) / LOGS_FOLDER
    train = tf.summary.create_file_writer(str(logs / "train"))
    with train.as_default():
        for step, (loss, accuracy) in enumerate(zip(metrics.batch_loss, metrics.batch_accuracy, strict=True), 1):
            tf.summary.scalar("batch_loss", loss, step=step)
            tf.summary.scalar("batch_accuracy", accuracy, step=step)
        for epoch, (loss, accuracy) in enumerate(zip(metrics.epoch_loss, metrics.epoch_accuracy, strict=True), 1):
            tf.summary.scalar("epoch_loss", loss, step=epoch)
            tf.summary.scalar("epoch_accuracy", accuracy, step=epoch)
        if recording:
            assert recording.probe is not None
            for snapshot in recording.snapshots:
                for layer, histogram in snapshot.histograms.items():
                    # Histograms computed where the run trained: written as TensorBoard stores its own.
                    tf.summary.write(f"weights/{layer}", tf.constant(histogram, tf.float64), step=snapshot.step,
                                     metadata=histogram_metadata.create_summary_metadata(f"weights/{layer}", None))
                pictures = [("strip: its answers", strip_picture(snapshot, recording.probe)),
                            ("map of the digits", map_picture(snapshot, recording.probe)),
                            *[(title, picture) for _, title, picture in learned_pictures(snapshot, recording.probe)]]
                for title, picture in pictures:
                    tf.summary.image(title, picture[np.newaxis], step=snapshot.step)
    train.close()
    validation = tf.summary.create_file_writer(str(logs / "validation"))
    with validation.as_default():
        for epoch, (loss, accuracy) in enumerate(zip(metrics.val_loss, metrics.val_accuracy, strict=True), 1):
            tf.summary.scalar("epoch_loss", loss, step=epoch)
            tf.summary.scalar("epoch_accuracy", accuracy, step=epoch)
    validation.close()
    return logs
