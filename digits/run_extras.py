"""What is saved beside a run's model once it has trained: its snapshots (digits.snapshots), its TensorBoard
logs (digits.tensorboard_logs) and its probabilities on the test digits (digits.saved_probabilities), as the task
read them when it tested its model: no model is loaded again to save them. None may cost the run itself: a part
that cannot be written is left out, and said so."""

from __future__ import annotations

import sys
from pathlib import Path

from digits import snapshots
from digits.saved_probabilities import TestReading, write_probabilities
from digits.training import Metrics


def write_run_extras(folder: Path, recording: snapshots.Recording, metrics: Metrics | None,
                     test_reading: TestReading | None) -> None:
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
    if test_reading is not None:
        try:
            write_probabilities(folder, test_reading)
        except OSError as error:
            print(f"The run's test probabilities were not saved: {error}", file=sys.stderr)
