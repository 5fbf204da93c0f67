"""Lesson links: the Train page's set-up in a web address, and back.

A teacher hands out one link for one lesson, as TensorFlow Playground does: the link names the settings
(``?kind=cnn&epochs=3&batch_size=128``), the mode (one run, or a race of settings) and which controls
to hide (``hide=learning_rate,dropout``). Reading a link never fails: a name or value that makes no
sense is left out with a short notice saying why, and the rest of the link still applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from digits.compare import MAX_VALUES, MIN_VALUES, VARIED_SETTINGS
from digits.models import LIMITS, MODEL_KINDS, default_hyperparameters

EPOCHS_RANGE = (1, 30)  # the Train page's Epochs slider
RACE_EPOCHS_RANGE = (1, 10)  # Compare mode's, for every run of a race
DROPOUT_RANGE, DROPOUT_STEP = (0.0, 0.5), 0.05
MODES = ("one", "compare")  # one run; a race of settings
HIDE = "hide"
# The app's other address parameters, which are not part of a lesson: a session's own job and race, the
# current model (the sidebar keeps it in the address on every page) and the presenter view.
APP_PARAMETERS = ("job", "race", "model", "present")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _read(read: Callable[[str], Any], text: str, wanted: str) -> Any:
    """``read(text)``, or a ValueError that says only what was wanted."""
    try:
        return read(text)
    except ValueError:
        raise ValueError(wanted) from None


def _whole(low: int, high: int) -> Callable[[str], int]:
    wanted = f"a whole number from {low} to {high}"

    def parse(text: str) -> int:
        value = _read(int, text, wanted)
        if not low <= value <= high:
            raise ValueError(wanted)
        return value
    return parse


def _one_of(choices: tuple[Any, ...], read: Callable[[str], Any]) -> Callable[[str], Any]:
    wanted = f"one of {', '.join(map(_text, choices))}"

    def parse(text: str) -> Any:
        value = _read(read, text, wanted)
        if value not in choices:
            raise ValueError(wanted)
        return value
    return parse


def _dropout(text: str) -> float:
    wanted = f"a number from {DROPOUT_RANGE[0]:g} to {DROPOUT_RANGE[1]:g} in steps of {DROPOUT_STEP:g}"
    value = _read(float, text, wanted)
    steps = round(value / DROPOUT_STEP)
    if not DROPOUT_RANGE[0] <= value <= DROPOUT_RANGE[1] or abs(steps * DROPOUT_STEP - value) > 1e-9:
        raise ValueError(wanted)
    return round(steps * DROPOUT_STEP, 2)


def _on_off(text: str) -> bool:
    return _read(VARIED_SETTINGS["augment"].parse, text, "on or off")


# One run's settings, each read from its text in a link (ValueError saying what it must be otherwise).
ONE_RUN: dict[str, Callable[[str], Any]] = {
    "kind": _one_of(MODEL_KINDS, str),
    "epochs": _whole(*EPOCHS_RANGE),
    "batch_size": _one_of(VARIED_SETTINGS["batch_size"].choices, int),
    "learning_rate": _one_of(VARIED_SETTINGS["learning_rate"].choices, float),
    "hidden_units": _one_of(VARIED_SETTINGS["hidden_units"].choices, int),
    "dropout": _dropout,
    "augment": _on_off,
    "not_a_digit": _on_off,
    "seed": _whole(0, int(LIMITS["seed"][1])),
}
# A race's: the setting varied, its values (read once the setting is known), the kind and epochs of every run.
RACE: dict[str, Callable[[str], Any]] = {
    "vary": _one_of(tuple(VARIED_SETTINGS), str),
    "race_kind": _one_of(MODEL_KINDS, str),
    "race_epochs": _whole(*RACE_EPOCHS_RANGE),
}
SETTINGS = (*ONE_RUN, "mode", *RACE, "values")
# Controls a link can hide: every setting, the run's name, and the mode switch.
HIDEABLE = (*ONE_RUN, "name", "mode", *RACE, "values")


@dataclass(frozen=True)
class Lesson:
    """What a link asks for: settings by name (only those it gives, each valid), controls to hide, and a
    notice for each part of the link that was left out."""

    settings: dict[str, Any] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    notices: tuple[str, ...] = ()


def _values(text: str, vary: str) -> list[Any]:
    varied = VARIED_SETTINGS[vary]
    values = []
    wanted = f"{MIN_VALUES} to {MAX_VALUES} of {', '.join(map(_text, varied.choices))}"
    for part in (part.strip() for part in text.split(",") if part.strip()):
        value = _read(varied.parse, part, wanted)
        if value not in varied.choices:
            raise ValueError(wanted)
        if value not in values:
            values.append(value)
    if not MIN_VALUES <= len(values) <= MAX_VALUES:
        raise ValueError(f"{MIN_VALUES} to {MAX_VALUES} values, separated by commas")
    return values


def read_lesson(query: Mapping[str, str]) -> Lesson:
    """The lesson in an address's parameters; what cannot be used is left out, with a notice."""
    settings: dict[str, Any] = {}
    notices: list[str] = []
    readers = {**ONE_RUN, **RACE, "mode": _one_of(MODES, str)}
    for name, text in query.items():
        if name in readers:
            try:
                settings[name] = readers[name](text.strip())
            except ValueError as wanted:
                notices.append(f"Left out {name}={text!r} from the link: it must be {wanted}.")
        elif name not in (HIDE, "values", *APP_PARAMETERS):
            notices.append(f"Left out {name!r} from the link: this app has no such setting.")
    if "values" in query:
        vary = settings.get("vary", "batch_size")
        try:
            settings["values"] = _values(query["values"], vary)
        except ValueError as error:
            notices.append(f"Left out values={query['values']!r} from the link: {vary} takes {error}.")
    hidden = [name.strip() for name in query.get(HIDE, "").split(",") if name.strip()]
    unknown = [name for name in hidden if name not in HIDEABLE]
    if unknown:
        notices.append(f"Nothing to hide called {', '.join(unknown)}: a link can hide {', '.join(HIDEABLE)}.")
    return Lesson(settings, frozenset(hidden) - set(unknown), tuple(notices))


def lesson_query(settings: Mapping[str, Any], hidden: frozenset[str] = frozenset()) -> dict[str, str]:
    """The address parameters for what is on screen: in one-run mode the settings that differ from the
    kind of network's defaults, in compare mode the race; and the hidden controls. ``settings`` holds
    every name of SETTINGS; read_lesson reads the result back to the same set-up."""
    query: dict[str, str] = {}
    if settings["mode"] == "compare":
        query["mode"] = "compare"
        query.update({name: _text(settings[name]) for name in RACE})
        query["values"] = ",".join(map(_text, settings["values"]))
    else:
        defaults = default_hyperparameters(settings["kind"])
        query["kind"] = settings["kind"]
        for name in ONE_RUN:
            default = getattr(defaults, name, None)
            if name != "kind" and settings[name] != default:
                query[name] = _text(settings[name])
    if hidden:
        query[HIDE] = ",".join(name for name in HIDEABLE if name in hidden)
    return query


# A browser session's own parameters, which a link handed to others must not carry: its training job and
# race (others could stop them) and the presenter view.
PERSONAL_PARAMETERS = ("job", "race", "present")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


def share_link(page_address: str, query: Mapping[str, str]) -> str:
    """The link to hand a room: the page's address with its set-up, less this session's own parameters."""
    shared = {name: text for name, text in query.items() if name not in PERSONAL_PARAMETERS}
    return page_address + ("?" + urlencode(shared, safe=",") if shared else "")


def only_this_computer(address: str) -> bool:
    """Whether ``address`` names this computer only (localhost), so that other devices cannot open it."""
    return (urlsplit(address).hostname or "") in LOOPBACK_HOSTS
