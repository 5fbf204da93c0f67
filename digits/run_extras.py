"""What is saved beside a run's model once it has trained: its snapshots (digits.snapshots), its TensorBoard
logs (digits.tensorboard_logs) and its probabilities on the test digits (digits.saved_probabilities). None may
cost the run itself: a part that cannot be written is left out, and said so."""

from __future__ import annotations

import sys
from pathlib import Path

from digits import snapshots
from digits.training import Metrics


def write_run_extras(folder: Path, recording: snapshots.Recording, metrics: Metrics | None) -> None:
    if recording:
        try:
            snapshots.save(recording, folder)
        except ValueError as error:
            print(f"The run's snapshots were not saved: {error}", file=sys.stderr)
    if metrics is not None:
        from digits.tensorboard_logs import write_logs

        try:
            write_logs(folder, metrics, recording)
        except (OSError, ValueError) as error:
            print(f"The run's TensorBoard logs were not written: {error}", file=sys.stderr)
    write_test_probabilities(folder)


def write_test_probabilities(folder: Path) -> None:
    """The model's reading of the MNIST test digits that Evaluate shows (load_mnist's, as the app loads them),
    so its figures need no TensorFlow on a server just started; without it Evaluate reads them again."""
    from digits.data import DataError, load_mnist
    from digits.saved_probabilities import save_test_probabilities
    from digits.store import StoreError

    try:
        save_test_probabilities(folder, load_mnist())
    except (DataError, StoreError, OSError) as error:
        print(f"The run's test probabilities were not saved: {error}", file=sys.stderr)
