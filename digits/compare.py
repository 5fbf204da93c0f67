"""A race of settings: the same model trained with 2-4 values of one setting, side by side.

Plain functions shared by the Train page's Compare mode and ``python -m digits sweep``: which settings
can be varied and how their values are read, the runs' hyperparameters and names, and what the race
showed, in a table and in plain sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from digits.background.jobs import JobStatus, Snapshot
from digits.models import MODEL_KINDS, Hyperparameters, InvalidSetting, default_hyperparameters

MIN_VALUES, MAX_VALUES = 2, 4


def _kind(text: str) -> str:
    if text not in MODEL_KINDS:
        raise ValueError(text)
    return text


_ON_OFF = {"on": True, "true": True, "yes": True, "1": True, "off": False, "false": False, "no": False, "0": False}


def _on_off(text: str) -> bool:
    try:
        return _ON_OFF[text.lower()]
    except KeyError as error:
        raise ValueError(text) from error


@dataclass(frozen=True)
class VariedSetting:
    label: str  # as people read it
    parse: Callable[[str], Any]  # one value from what a person typed; ValueError if it is not one
    wanted: str  # what a value must be, for the message when it is not
    choices: tuple[Any, ...]  # what the page offers
    suggested: tuple[Any, ...]  # a race worth watching, to start from


# The settings a race can vary, in the order the page offers them; the Train page's sliders offer the same values
# (each kind's default among them: the deeper CNN's learning rate is 0.002).
VARIED_SETTINGS: dict[str, VariedSetting] = {
    "batch_size": VariedSetting("batch size", int, "a whole number", (16, 32, 64, 128, 256, 512, 1024),
                                (32, 256, 1024)),
    "learning_rate": VariedSetting("learning rate", float, "a number",
                                   (0.0001, 0.0003, 0.001, 0.002, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
                                   (0.0003, 0.003, 0.03)),
    "model": VariedSetting("kind of network", _kind, f"one of {', '.join(MODEL_KINDS)}", MODEL_KINDS, ("mlp", "cnn")),
    "epochs": VariedSetting("epochs", int, "a whole number", (1, 2, 3, 5, 10), (1, 3)),
    "hidden_units": VariedSetting("hidden units", int, "a whole number", (16, 32, 64, 128, 256, 512), (16, 128, 512)),
    "dropout": VariedSetting("dropout", float, "a number", (0.0, 0.1, 0.2, 0.3, 0.5), (0.0, 0.5)),
    "augment": VariedSetting("varied digits", _on_off, "on or off", (False, True), (False, True)),
}


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``"batch_size=32,256,1024"`` -> ("batch_size", [32, 256, 1024]); InvalidSetting says what is wrong."""
    setting, _, values_text = text.partition("=")
    setting = setting.strip().replace("-", "_")
    if setting not in VARIED_SETTINGS:
        raise InvalidSetting(f"Cannot vary {setting!r}: choose one of {', '.join(VARIED_SETTINGS)} "
                             "(e.g. batch_size=32,256,1024).")
    values = []
    for value_text in (part.strip() for part in values_text.split(",") if part.strip()):
        try:
            values.append(VARIED_SETTINGS[setting].parse(value_text))
        except ValueError as error:
            raise InvalidSetting(f"{setting}: {value_text!r} is not {VARIED_SETTINGS[setting].wanted}.") from error
    return setting, values


def race_hyperparameters(model: str, setting: str, values: Sequence[Any], **fixed: Any) -> list[Hyperparameters]:
    """One Hyperparameters per value of ``setting``, the rest ``model``'s defaults with ``fixed`` on top.
    Varying the kind of network gives each kind its own defaults. InvalidSetting for a bad race."""
    if not MIN_VALUES <= len(values) <= MAX_VALUES:
        raise InvalidSetting(f"A race needs {MIN_VALUES} to {MAX_VALUES} values of one setting; got {len(values)}.")
    if len(set(values)) != len(values):
        raise InvalidSetting(f"Each value of {setting} may appear only once: {', '.join(map(str, values))}.")
    fixed = {key: value for key, value in fixed.items() if key != setting}
    if setting == "model":
        return [default_hyperparameters(kind, **fixed) for kind in values]
    return [default_hyperparameters(model, **{**fixed, setting: value}) for value in values]  # type: ignore[arg-type]


def varied_setting(settings: Sequence[Hyperparameters]) -> str | None:
    """Which setting a race varied, read back from its runs' settings (the kind first: varying it changes its
    defaults too); None when they do not differ in exactly one of the settings a race can vary."""
    if len({hp.model for hp in settings}) > 1:
        return "model"
    differing = [name for name in VARIED_SETTINGS if len({getattr(hp, name) for hp in settings}) > 1]
    return differing[0] if len(differing) == 1 else None


def value_label(setting: str, value: Any) -> str:
    """How a value reads on a chart's legend and in a sentence: "batch size 256", "CNN", "varied digits on"."""
    if setting == "model":
        return str(value).upper()
    if setting == "augment":
        return f"varied digits {'on' if value else 'off'}"
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{VARIED_SETTINGS[setting].label} {shown}"


def run_name(prefix: str, setting: str, value: Any) -> str:
    return f"{prefix}-{setting.replace('_', '-')}-{value}"


@dataclass(frozen=True)
class RaceEntry:
    """One runner's figures, once it has ended (None where it produced no model)."""

    label: str
    name: str
    status: JobStatus
    accuracy: float | None
    seconds: float | None
    digits_per_second: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "status": str(self.status), "accuracy": self.accuracy,
                "seconds": self.seconds, "digits_per_second": self.digits_per_second}


def race_entry(label: str, snapshot: Snapshot) -> RaceEntry:
    record, metrics = snapshot.record, snapshot.metrics
    return RaceEntry(
        label=label,
        name=record.name if record is not None else snapshot.name,
        status=snapshot.status,
        accuracy=record.test_accuracy if record is not None else None,
        seconds=record.training_seconds if record is not None else None,
        digits_per_second=metrics.examples_per_second if metrics is not None and record is not None else None,
    )


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]  # str.capitalize() would lower the rest: "Cnn"


def race_sentences(entries: Sequence[RaceEntry]) -> list[str]:
    """One plain sentence per runner on what the race showed: accuracy and time against the others'."""
    scored = [entry for entry in entries if entry.accuracy is not None and entry.seconds is not None]
    best = max((entry.accuracy for entry in scored), default=None)
    fastest = min((entry.seconds for entry in scored), default=None)
    sentences = []
    for entry in entries:
        if entry.status == JobStatus.DIVERGED:
            sentences.append(f"{_first_upper(entry.label)} went wrong: the loss blew up, so it learned nothing useful.")
            continue
        if entry.accuracy is None or entry.seconds is None or best is None or fastest is None:
            sentences.append(f"{_first_upper(entry.label)} did not finish ({entry.status.text.lower()}).")
            continue
        accuracy, seconds = f"{entry.accuracy:.2%}", f"{entry.seconds:.0f} s"
        is_best, is_fastest = entry.accuracy == best, entry.seconds == fastest
        behind = f"{(best - entry.accuracy) * 100:.2f} points behind the best"
        slower = f"{entry.seconds / fastest:.1f} times as long as the fastest"
        if len(scored) == 1:
            text = f"read {accuracy} of the test digits right in {seconds}"
        elif is_best and is_fastest:
            text = f"won on both counts: the most accurate ({accuracy}) and the fastest ({seconds})"
        elif is_best:
            text = f"was the most accurate ({accuracy}), but took {slower}"
        elif is_fastest:
            text = f"was the fastest ({seconds}), but read {accuracy} right, {behind}"
        else:
            text = f"read {accuracy} right, {behind}, and took {slower}"
        sentences.append(f"{_first_upper(entry.label)} {text}.")
    return sentences
