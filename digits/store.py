"""Saved runs: a model (.keras, no optimizer state) and its JSON run record, one folder per run.

Writes go to a hidden temporary folder that is renamed into place, so a crash never leaves a
half-written run where the listing can see it. Names are sanitised so nothing is written
outside the store, and an existing run is never silently replaced.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digits.data import Mnist
from digits.models import Hyperparameters

if TYPE_CHECKING:
    import keras

MODELS_DIR_ENV = "DIGITS_MODELS_DIR"
DEFAULT_RUN = "default"
# The model that ships with the app, so Draw works on first open: built by `python -m digits build-default`.
BUILTIN_DEFAULT_DIR = Path(__file__).resolve().parent.parent / "assets" / DEFAULT_RUN
MODEL_FILE = "model.keras"
RECORD_FILE = "run.json"
MAX_NAME_LENGTH = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StoreError(Exception):
    """A run cannot be saved, found or loaded; the message says which run and why."""


class RunExists(StoreError):
    """A run of that name is already saved."""


@dataclass(frozen=True)
class RunRecord:
    name: str
    created: str  # ISO 8601, UTC
    hyperparameters: dict[str, Any]
    history: dict[str, list[float]]
    test: dict[str, Any]  # loss, accuracy, count, wrong
    training_seconds: float
    data_fingerprint: str
    status: str = "finished"  # or "stopped" when stopped early
    versions: dict[str, str] = field(default_factory=dict)
    drawn: dict[str, Any] = field(default_factory=dict)  # figures on pen-drawn digits, where measured
    taught: dict[str, Any] = field(default_factory=dict)  # a taught model: from, drawings, before, after
    # Where it trained: {"name": "local" | "ray", "address": the Ray cluster's, "node_id": the machine's (the last),
    # "nodes": every machine it ran on, in order}.
    engine: dict[str, Any] = field(default_factory=lambda: {"name": "local", "address": None, "node_id": None})
    # How it tells a digit from something else (digits.predict.Decision.to_dict()) and figures on non-digits;
    # empty for runs saved before that existed.
    not_a_digit: dict[str, Any] = field(default_factory=dict)
    # What the model computed in, "float32" or "bfloat16" (digits.compute); runs saved before it was
    # recorded read as float32.
    compute_dtype: str = "float32"
    # Each time it carried on from its last finished epoch after its server, process or machine was lost:
    # {"at": ISO 8601 UTC, "from_epoch": epochs finished before, "why": what was lost} (see Job.carry_on in
    # digits.background.jobs).
    carried_on: list[dict[str, Any]] = field(default_factory=list)

    @property
    def hp(self) -> Hyperparameters:
        return Hyperparameters.from_dict(self.hyperparameters)

    @property
    def test_accuracy(self) -> float | None:
        return self.test.get("accuracy")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunRecord:
        return cls(**{key: values[key] for key in cls.__dataclass_fields__ if key in values})


@dataclass(frozen=True)
class StoredRun:
    """One entry of the listing: its record, or why it cannot be read."""

    name: str
    record: RunRecord | None
    problem: str | None = None


def run_summary(run: StoredRun) -> dict[str, Any]:
    """A saved run as one row of a table, the same on every page and in the CLI; a damaged run's row
    says what is wrong with it."""
    record = run.record
    if record is None:
        return {"Name": run.name, "Problem": run.problem}
    hp = record.hyperparameters
    return {
        "Name": run.name,
        "Kind": str(hp.get("model", "?")).upper(),
        "Epochs": hp.get("epochs"),
        "Batch size": hp.get("batch_size"),
        "Test accuracy": record.test_accuracy,
        "Training time (s)": record.training_seconds,
        "Saved": record.created.replace("T", " ")[:16],
        "Status": record.status,
    }


def library_versions() -> dict[str, str]:
    import keras
    import numpy
    import tensorflow

    return {
        "python": platform.python_version(),
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }


def new_run_record(
    *,
    name: str,
    hp: Hyperparameters,
    history: dict[str, list[float]],
    test: dict[str, Any],
    seconds: float,
    data: Mnist,
    status: str,
    compute_dtype: str,
    not_a_digit: dict[str, Any] | None = None,
) -> RunRecord:
    return RunRecord(
        name=name,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        hyperparameters=hp.to_dict(),
        history=history,
        test=test,
        training_seconds=round(seconds, 2),
        data_fingerprint=data.fingerprint,
        status=status,
        versions=library_versions(),
        not_a_digit=not_a_digit or {},
        compute_dtype=compute_dtype,
    )


def without_optimizer(model: keras.Model) -> keras.Model:
    """An uncompiled copy, which saves without the optimizer's state (two more copies of every weight
    for Adam). Rebuilt from the architecture: clone_model keeps the compile settings."""
    plain = type(model).from_config(model.get_config())
    plain.set_weights(model.get_weights())
    return plain


def model_file_bytes(model: keras.Model) -> bytes:
    """The model as the bytes of a .keras file, for a download when it cannot be saved here."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / MODEL_FILE
        without_optimizer(model).save(path)
        return path.read_bytes()


def load_model_file(path: Path, name: str) -> keras.Model:
    """The .keras file at ``path`` (run ``name``'s model), loaded in safe mode; StoreError when it cannot be."""
    import keras

    if not path.is_file():
        raise StoreError(f"Run {name!r} has no model file.")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for damaged or unsafe files.
        raise StoreError(f"The model of run {name!r} cannot be loaded: {error}") from error


def sanitise_name(name: str) -> str:
    """A safe folder name from what a person typed: letters, digits, '.', '_' and '-' only.

    Raises StoreError when nothing usable is left (e.g. '../..' or '')."""
    cleaned = _UNSAFE.sub("-", name.strip()).strip("-.")[:MAX_NAME_LENGTH].strip("-.")
    if not cleaned:
        raise StoreError(f"{name!r} cannot be used as a run name: use letters, digits, '-', '_' or '.'.")
    return cleaned


def default_models_dir() -> Path:
    return Path(os.environ.get(MODELS_DIR_ENV) or "models")


class ModelStore:
    """Saved runs under ``root``, plus the read-only built-in run named "default" when it ships."""

    def __init__(self, root: str | os.PathLike[str] | None = None, builtin: Path | None = BUILTIN_DEFAULT_DIR) -> None:
        self.root = Path(root) if root is not None else default_models_dir()
        self.builtin = builtin if builtin is not None and (builtin / RECORD_FILE).is_file() else None

    def _run_dir(self, name: str) -> Path:
        if name == DEFAULT_RUN and self.builtin is not None:
            return self.builtin
        safe = sanitise_name(name)
        if safe != name:
            raise StoreError(f"No run is named {name!r}.")
        return self.root / safe

    def _reserved(self, name: str) -> bool:
        """The built-in run's name may not be reused while the built-in run is there."""
        return name == DEFAULT_RUN and self.builtin is not None

    def exists(self, name: str) -> bool:
        try:
            return (self._run_dir(name) / RECORD_FILE).is_file()
        except StoreError:
            return False

    def unique_name(self, base: str) -> str:
        """``base`` sanitised, or with -2, -3, ... appended until no saved run has it."""
        base = sanitise_name(base)
        name, number = base, 1
        while (self.root / name).exists() or self._reserved(name):
            number += 1
            name = f"{base[: MAX_NAME_LENGTH - 6]}-{number}"
        return name

    def save(self, model: keras.Model, record: RunRecord,
             write_extras: Callable[[Path], object] | None = None) -> RunRecord:
        """Save model and record atomically under the record's (sanitised) name; ``write_extras`` as for
        ``save_file``."""
        return self._save(lambda path: without_optimizer(model).save(path), record, write_extras)

    def save_file(self, model_file: bytes, record: RunRecord,
                  write_extras: Callable[[Path], object] | None = None) -> RunRecord:
        """As ``save``, for a model already packed as a .keras file (model_file_bytes), e.g. by another machine.
        ``write_extras(folder)`` writes more files into the run's folder before it appears (its snapshots, say)."""
        return self._save(lambda path: path.write_bytes(model_file), record, write_extras)

    def _save(self, write_model: Callable[[Path], object], record: RunRecord,
              write_extras: Callable[[Path], object] | None = None) -> RunRecord:
        name = sanitise_name(record.name)
        record = RunRecord.from_dict({**record.to_dict(), "name": name})
        final = self.root / name
        if final.exists() or self._reserved(name):
            raise RunExists(f"A run named {name!r} already exists; choose another name or delete it first.")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=self.root))
        except OSError as error:
            raise StoreError(f"Cannot write to the model folder {self.root}: {error.strerror or error}.") from error
        try:
            write_model(staging / MODEL_FILE)
            if write_extras is not None:
                write_extras(staging)
            (staging / RECORD_FILE).write_text(json.dumps(record.to_dict(), indent=2))
            os.rename(staging, final)  # atomic; fails if a run of that name appeared meanwhile
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            if final.exists():
                raise RunExists(f"A run named {name!r} already exists.") from error
            raise StoreError(f"Could not save run {name!r} in {self.root}: {error.strerror or error}.") from error
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return record

    def record(self, name: str) -> RunRecord:
        path = self._run_dir(name) / RECORD_FILE
        try:
            return RunRecord.from_dict(json.loads(path.read_text()))
        except FileNotFoundError as error:
            raise StoreError(f"No run is named {name!r}.") from error
        except (OSError, ValueError, TypeError, AttributeError) as error:
            raise StoreError(f"The record of run {name!r} is damaged ({error}).") from error

    def list(self) -> list[StoredRun]:
        """Every saved run, newest first, then the built-in default; damaged runs are listed with their
        problem, never raising."""
        runs = []
        for path in self.root.iterdir() if self.root.is_dir() else ():
            if path.name.startswith(".") or not path.is_dir():
                continue  # staging folders of saves in progress or interrupted by a crash
            try:
                runs.append(StoredRun(path.name, self.record(path.name)))
            except StoreError as error:
                runs.append(StoredRun(path.name, None, str(error)))
        runs.sort(key=lambda run: run.record.created if run.record else "", reverse=True)
        if self.builtin is not None:
            try:
                runs.append(StoredRun(DEFAULT_RUN, self.record(DEFAULT_RUN)))
            except StoreError as error:
                runs.append(StoredRun(DEFAULT_RUN, None, str(error)))
        return runs

    def load(self, name: str) -> keras.Model:
        """The saved model, loaded in safe mode (no code from the file runs)."""
        return load_model_file(self._run_dir(name) / MODEL_FILE, name)

    def folder(self, name: str) -> Path:
        """The folder of run ``name``, for the files saved beside its model (StoreError for a bad name)."""
        return self._run_dir(name)

    def model_file(self, name: str) -> bytes:
        """The run's saved .keras file as bytes, for a download."""
        path = self._run_dir(name) / MODEL_FILE
        try:
            return path.read_bytes()
        except OSError as error:
            raise StoreError(f"The model file of run {name!r} cannot be read: {error.strerror or error}.") from error

    def delete(self, name: str) -> None:
        if name == DEFAULT_RUN:
            raise StoreError("The built-in default model cannot be deleted.")
        run_dir = self._run_dir(name)
        if not run_dir.is_dir():
            raise StoreError(f"No run is named {name!r}.")
        # Rename first so the listing never sees a half-deleted run.
        doomed = self.root / f".deleting-{name}-{uuid.uuid4().hex[:8]}"
        os.rename(run_dir, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
