"""Lesson links on the Train page: a link's set-up is opened once, and the address is kept a link to what
is on screen (see digits/lesson_link.py for the parameters)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from digits.lesson_link import APP_PARAMETERS, SETTINGS, lesson_query, read_lesson
from ui import compare_view

# Each link parameter's control on the Train page (and in its Compare mode).
CONTROL_KEYS = {
    "kind": "train_model", "epochs": "train_epochs", "batch_size": "train_batch_size",
    "learning_rate": "train_learning_rate", "hidden_units": "train_hidden_units", "dropout": "train_dropout",
    "augment": "train_augment", "not_a_digit": "train_not_a_digit", "seed": "train_seed", "mode": "train_mode",
    "vary": "compare_setting", "values": "compare_values", "race_kind": "compare_model",
    "race_epochs": "compare_epochs",
}
MODE_LABELS = {"one": compare_view.ONE_RUN, "compare": compare_view.COMPARE}
HIDDEN_KEY = "lesson_hidden"  # the controls the link hid, for this browser session
OPENED_KEY = "lesson_opened"  # set by the Train page's first run in this browser session


def _lesson_part() -> dict[str, str]:
    return {name: st.query_params[name] for name in st.query_params if name not in APP_PARAMETERS}


def open_link(apply_kind_defaults: Callable[[], None]) -> None:
    """Call before the page's controls: set them up as a newly opened link says (the kind of network first,
    with its defaults, then the rest), and say what in the link was left out."""
    # Only the Train page's first run in a browser session opens a link (opening another link loads the
    # page anew). Every later run finds the address this page wrote itself, and in Chromium a rerun can
    # even carry the address from before the page last wrote it: taken for a new link, either set the
    # controls back (a slider moved snapped back, a new kind's defaults were undone).
    if OPENED_KEY in st.session_state:
        return
    st.session_state[OPENED_KEY] = True
    lesson_part = _lesson_part()
    if not lesson_part:
        return
    lesson = read_lesson(lesson_part)
    settings = dict(lesson.settings)
    if "kind" in settings:
        st.session_state.train_model = settings.pop("kind")
        apply_kind_defaults()
    if "mode" in settings:
        settings["mode"] = MODE_LABELS[settings["mode"]]
    for name, value in settings.items():
        st.session_state[CONTROL_KEYS[name]] = value
    st.session_state[HIDDEN_KEY] = lesson.hidden
    for notice in lesson.notices:
        st.warning(notice, icon=":material/link_off:")


def shown(name: str) -> bool:
    """Whether the control a link calls ``name`` shows (a link's ``hide`` list hides it)."""
    return name not in st.session_state.get(HIDDEN_KEY, frozenset())


def write_address() -> None:
    """Call at the end of the page: the address's lesson parameters become what is on screen."""
    on_screen = {name: st.session_state.get(key) for name, key in CONTROL_KEYS.items()}
    on_screen["mode"] = "compare" if st.session_state.get("train_mode") == compare_view.COMPARE else "one"
    wanted = lesson_query({name: on_screen[name] for name in SETTINGS},
                          st.session_state.get(HIDDEN_KEY, frozenset()))
    for name in set(_lesson_part()) - set(wanted):
        del st.query_params[name]
    for name, text in wanted.items():
        if st.query_params.get(name) != text:
            st.query_params[name] = text
