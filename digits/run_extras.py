"""What is saved beside a run's model once it has trained: its snapshots (digits.snapshots) and its
TensorBoard logs (digits.tensorboard_logs). Neither may cost the run itself: a part that cannot be written
is left out, and said so."""

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
