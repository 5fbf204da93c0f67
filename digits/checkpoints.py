"""Where a run stands after each finished epoch, so it can carry on from there after its process, its server or its
machine is lost: the model's weights and its optimizer's state (as keras.callbacks.BackupAndRestore keeps them),
with the figures and snapshots recorded up to that point.

The task's process sends a TrainingState after each finished epoch (EpochFinished); the job, in the app's process,
keeps it with what it has recorded as a Checkpoint and writes it down (digits.background.journal). To carry on, the
task is given a Resume: the same model is built as for a fresh run, its state put back, and training goes on from the
next epoch, its figures appended to those recorded so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras

    from digits.snapshots import NetworkSnapshot, Recording
    from digits.training import Metrics


@dataclass(frozen=True)
class TrainingState:
    """A model's weights and its optimizer's variables (step count and learning rate included) after ``epoch``
    finished epochs."""

    epoch: int
    weights: list[np.ndarray]
    optimizer: list[np.ndarray]


@dataclass(frozen=True)
class EpochFinished:
    """From a running task to its job: the state after an epoch, and which data it trained on."""

    state: TrainingState
    data_fingerprint: str


@dataclass(frozen=True)
class Checkpoint:
    """What a job keeps of its run after each finished epoch: enough to carry on or to offer the model as it was."""

    state: TrainingState
    data_fingerprint: str
    metrics: Metrics
    recording: Recording


@dataclass(frozen=True)
class Resume:
    """Given to a task that carries on: the checkpoint to start from. ``carry_on`` False (its data changed since)
    makes the task put the state back and go straight to testing and saving, as an interrupted run."""

    checkpoint: Checkpoint
    carry_on: bool = True

    @property
    def last_snapshot(self) -> NetworkSnapshot | None:
        return self.checkpoint.recording.snapshots[-1] if self.checkpoint.recording.snapshots else None

    def checked(self, data_fingerprint: str) -> Resume:
        """This resume, told not to carry on when the task's data are not those the run trained on."""
        return replace(self, carry_on=data_fingerprint == self.checkpoint.data_fingerprint)


def capture(model: keras.Model, epoch: int) -> TrainingState:
    import keras

    return TrainingState(epoch, model.get_weights(),
                         [keras.ops.convert_to_numpy(variable) for variable in model.optimizer.variables])


def restore(model: keras.Model, state: TrainingState) -> None:
    """Put ``state`` back into ``model``, compiled as it was when the state was captured. ValueError when it does
    not fit (another architecture or optimizer)."""
    model.set_weights(state.weights)
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    if len(optimizer.variables) != len(state.optimizer):
        raise ValueError(f"the saved optimizer state has {len(state.optimizer)} variables, this model's optimizer "
                         f"{len(optimizer.variables)}")
    for variable, value in zip(optimizer.variables, state.optimizer, strict=True):
        if tuple(variable.shape) != value.shape:
            raise ValueError(f"the saved optimizer variable {variable.path} has shape {value.shape}, this model's "
                             f"{tuple(variable.shape)}")
        variable.assign(value)


def carried_on_note(carried_on: Sequence[dict[str, Any]]) -> str | None:
    """A line for the page about the times a run carried on (Job.carry_on's notes); None when it never did."""
    if not carried_on:
        return None
    times = "; ".join(f"from epoch {moment['from_epoch']} at {moment['at'][11:16]} UTC, after {moment['why']}"
                      for moment in carried_on)
    return f"↻ Carried on {times}. Nothing it had learned by then was lost."
