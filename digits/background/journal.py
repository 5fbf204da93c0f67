"""Runs in progress, written down so that a server started again carries them on (digits.background.jobs).

Each job that trains keeps a folder under the store's ``.training/``: its task (as sent to the engine), who
started it and when, and a checkpoint after each finished epoch (digits.checkpoints). The folder goes once the
run has ended, saved or not; what is left there when a server starts belongs to runs a lost server was training.

While a server runs a job it holds a lock on the job's folder (an OS lock, which goes when the process goes, even
killed), so two servers sharing a model folder never carry on the same run twice. Every file is written whole
under another name and renamed into place, so a crash leaves the last complete one. The last two checkpoints are
kept: should the newest be damaged, the run carries on from the one before.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pickle
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digits.background.jobs import Task
    from digits.checkpoints import Checkpoint

JOURNAL_DIR = ".training"
TASK_FILE = "task.pickle"
ABOUT_FILE = "about.json"
LOCK_FILE = "lock"
CHECKPOINT_PREFIX = "checkpoint-"
CHECKPOINTS_KEPT = 2
SET_ASIDE_PREFIX = "damaged-"


class JournalDamaged(Exception):
    """A run's journal cannot be read back; the message says what is wrong."""


class JournalBusy(Exception):
    """Another live process holds this run's journal: it is training the run."""


def _write_whole(path: Path, content: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


class RunJournal:
    """The journal of one job's run, locked by this process while it is open."""

    def __init__(self, folder: Path) -> None:
        """Open and lock ``folder`` (JournalBusy when another live process has it)."""
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = open(folder / LOCK_FILE, "a")  # noqa: SIM115 - held open for as long as the journal is
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self._lock.close()
            raise JournalBusy(f"another server is training the run in {folder}") from error

    @classmethod
    def begin(cls, folder: Path, task: Task, owner: str, created: float) -> RunJournal:
        journal = cls(folder)
        _write_whole(folder / TASK_FILE, pickle.dumps(task))
        _write_whole(folder / ABOUT_FILE, json.dumps({"owner": owner, "created": created}).encode())
        return journal

    def write(self, checkpoint: Checkpoint) -> None:
        """Keep ``checkpoint``, and the one before it; a failed write is said and costs the run nothing."""
        try:
            _write_whole(self.folder / f"{CHECKPOINT_PREFIX}{checkpoint.state.epoch:05d}.pickle",
                         pickle.dumps(checkpoint, protocol=pickle.HIGHEST_PROTOCOL))
            for old in _checkpoint_files(self.folder)[:-CHECKPOINTS_KEPT]:
                old.unlink(missing_ok=True)
        except OSError as error:
            print(f"A checkpoint of the run in {self.folder} could not be written: {error}", file=sys.stderr)

    def close(self) -> None:
        """The run has ended: its journal goes."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._lock.close()

    def release(self) -> None:
        """Let go of the lock and leave the journal as it is (for a test that plays a lost server)."""
        self._lock.close()


def _checkpoint_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{CHECKPOINT_PREFIX}*.pickle"))


@dataclass
class InterruptedRun:
    """A run found in the journal with no live process training it."""

    job_id: str
    journal: RunJournal
    task: Task
    owner: str
    created: float
    checkpoint: Checkpoint | None  # the newest readable one; None when it had not finished an epoch


def _read(folder: Path) -> tuple[Task, dict[str, Any]]:
    try:
        return pickle.loads((folder / TASK_FILE).read_bytes()), json.loads((folder / ABOUT_FILE).read_text())
    except Exception as error:  # unpickling a damaged or outdated file raises almost anything
        raise JournalDamaged(f"{type(error).__name__}: {error}") from error


def _newest_checkpoint(folder: Path) -> Checkpoint | None:
    for path in reversed(_checkpoint_files(folder)):
        try:
            return pickle.loads(path.read_bytes())
        except Exception as error:  # damaged: try the one before
            print(f"Checkpoint {path} is damaged ({type(error).__name__}: {error}); trying an earlier one.",
                  file=sys.stderr)
    return None


def interrupted_runs(root: Path) -> list[InterruptedRun]:
    """The runs in ``root``'s journal that no live process holds, locked now by this one, oldest first. A journal
    that cannot be read is set aside (renamed ``damaged-<job id>``, kept for a person to look at) and said."""
    runs = []
    journal_root = root / JOURNAL_DIR
    for folder in sorted(journal_root.iterdir()) if journal_root.is_dir() else ():
        if not folder.is_dir() or folder.name.startswith((".", SET_ASIDE_PREFIX)):
            continue
        try:
            journal = RunJournal(folder)
        except JournalBusy:
            continue
        try:
            task, about = _read(folder)
        except JournalDamaged as error:
            journal.release()
            with contextlib.suppress(OSError):
                os.rename(folder, folder.with_name(SET_ASIDE_PREFIX + folder.name))
            print(f"The run in {folder} cannot carry on, its journal is damaged ({error}); set aside.",
                  file=sys.stderr)
            continue
        runs.append(InterruptedRun(folder.name, journal, task, str(about.get("owner", "")),
                                   float(about.get("created", 0.0)), _newest_checkpoint(folder)))
    return sorted(runs, key=lambda run: run.created)
