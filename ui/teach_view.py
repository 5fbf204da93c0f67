"""The Draw page's "Teach it your handwriting": your saved drawings, a quick round, Teach as a background job.

Drawings are kept per browser session by default (each person at a shared server teaches their own
model), in a folder that session alone reads; a person may keep them in the server's shared folder instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from digits.background.jobs import AlreadyTraining, Job
from digits.checkpoints import carried_on_note
from digits.data import load_mnist
from digits.feedback import FeedbackError, default_drawings_dir, save_drawing
from digits.preprocess import preprocess_canvas
from digits.store import StoredRun, StoreError
from digits.teach import MIN_DRAWINGS, Drawings, TeachError, missing_digits, other_peoples_digits, read_drawings
from ui import resources, session

ROUND_REPEATS = 3  # the quick round: each digit this many times
KEEP_KEY = "teach_keep_on_server"
SESSIONS_FOLDER = "sessions"  # inside the drawings folder: one folder per browser session, read by it alone
ROUND_KEY = "teach_round"  # the digits still to draw in the quick round, next first
STATUS_TEXT = {  # the job's own words are about training
    "waiting": "Waiting for a free slot (other people are training)",
    "loading": "Getting ready: reading your drawings and the digits it must not forget",
    "training": "Teaching",
    "stopping": "Stopping after the current batch",
    "saving": "Measuring before and after, and saving the new model",
}
FIGURE_NAMES = {"yours": "Your drawings", "other_people": "Other people's drawings", "mnist": "MNIST test digits"}


def drawings_dir() -> Path:
    """Where this session's labelled drawings go: its own folder, or the server's shared one if chosen."""
    if st.session_state.get(KEEP_KEY):
        return default_drawings_dir()
    return default_drawings_dir() / SESSIONS_FOLDER / session.session_owner()


@st.cache_data(max_entries=64, show_spinner=False)
def _prepared_drawings(folder: str, listing: tuple[tuple[str, int], ...]) -> Drawings:
    # Preparing every saved drawing took about 60 ms for 30 of them: not again on every stroke, only when the
    # folder's listing (names and times) changes.
    return read_drawings(Path(folder))


def _your_drawings() -> Drawings | None:
    folder = drawings_dir()
    try:
        listing = tuple(sorted((record.name, record.stat().st_mtime_ns) for record in folder.glob("*.json")))
        return _prepared_drawings(str(folder), listing)
    except (TeachError, OSError):
        return None  # none saved yet (or the folder is unreadable: teaching says why when asked)


def _start_teaching(run: StoredRun) -> None:
    try:
        drawings = read_drawings(drawings_dir())
        from digits.teach import teach_task

        task = teach_task(resources.store(), run.name, drawings, load_mnist, other_peoples_digits())
        job = resources.job_registry().submit(session.session_owner(), task, resources.store())
    except (TeachError, AlreadyTraining, StoreError) as error:
        st.session_state.teach_problem = str(error)
        return
    session.TEACHING.remember([job])


def _save_round_drawing(rgba: np.ndarray | None, model: str, clear: Callable[[], None]) -> None:
    remaining = st.session_state.get(ROUND_KEY)
    if not remaining:
        return
    if rgba is None or not preprocess_canvas(rgba):
        st.session_state.teach_problem = f"Draw a {remaining[0]} on the canvas first."
        return
    try:
        save_drawing(drawings_dir(), rgba, str(remaining[0]), "", model)
    except FeedbackError as error:
        st.session_state.teach_problem = str(error)
        return
    st.session_state[ROUND_KEY] = remaining[1:]
    clear()


def quick_round(rgba: np.ndarray | None, model: str, clear: Callable[[], None]) -> None:
    """While a quick round is on: the digit to draw now, and a button that saves the canvas as that digit."""
    remaining = st.session_state.get(ROUND_KEY) or []
    if not remaining:
        return
    done = 10 * ROUND_REPEATS - len(remaining)
    st.metric("Draw this digit", str(remaining[0]), help="Draw it on the canvas, then press Save and next.")
    st.progress(done / (10 * ROUND_REPEATS), text=f"Quick round: {done} of {10 * ROUND_REPEATS} drawn")
    save_col, end_col = st.columns(2)
    save_col.button("Save and next", key="teach_round_save", type="primary",
                    on_click=_save_round_drawing, args=(rgba, model, clear))
    end_col.button("End the round", key="teach_round_end", on_click=lambda: st.session_state.pop(ROUND_KEY, None))


def _show_counts(drawings: Drawings | None) -> None:
    count = 0 if drawings is None else len(drawings)
    where = "on this server, shared" if st.session_state.get(KEEP_KEY) else "for this browser session only"
    st.markdown(f"**{count}** of your drawings are saved ({where}).")
    if drawings is not None and drawings.skipped:
        st.caption(f"{len(drawings.skipped)} are not used: marked as not a digit, or their digits could not be told "
                   "apart.")
    lacking = list(range(10)) if drawings is None else missing_digits(drawings, ROUND_REPEATS)
    if lacking:
        st.caption("Digits with fewer than 3 examples: " + ", ".join(str(digit) for digit in lacking))


def _show_result(job: Job) -> None:
    snapshot = job.snapshot(with_metrics=False)
    record = snapshot.record
    if record is None or not record.taught:
        st.error(f"{snapshot.status_text}. {snapshot.error or ''}")
        return
    if st.session_state.get("teach_adopted") != snapshot.job_id:  # once, so the person can switch back
        st.session_state.teach_adopted = snapshot.job_id
        session.set_current_model(record.name)
        st.rerun()
    taught = record.taught
    st.success(f"Taught **{record.name}** from {taught['from']} in {record.training_seconds:.0f} s: it is now the "
               "current model (switch back in the sidebar any time).")
    if note := carried_on_note(record.carried_on):
        st.caption(note)
    if taught["styles"]:
        st.caption("It noticed you write " + ", ".join(f"{d} {s}" for d, s in taught["styles"].items()) + ".")
    columns = st.columns(len(taught["after"]))
    for column, (key, after) in zip(columns, taught["after"].items(), strict=True):
        before = taught["before"][key]
        column.metric(FIGURE_NAMES[key], f"{after:.1%}", f"{after - before:+.1%} (was {before:.1%})",
                      delta_color="normal" if key == "yours" else "off")
    if taught["held_out"]:
        st.caption(f"Your figure is on {taught['measured_on']} of your drawings it did not learn from.")
    else:
        st.caption(f"Too few drawings to hold some back for a fair test: your figure is on the "
                   f"{taught['measured_on']} it learned from. Draw 6 or more of each digit for an honest one.")


@st.fragment(run_every=1.0)
def _live_progress(job: Job) -> None:
    snapshot = job.snapshot()
    if snapshot.done:
        st.rerun()
    metrics = snapshot.metrics
    progress = metrics.progress if metrics is not None else 0.0
    st.progress(progress, text=f"{STATUS_TEXT.get(snapshot.status, snapshot.status_text)}: {progress:.0%}")
    if note := carried_on_note(snapshot.carried_on):
        st.caption(note)
    st.button("Stop", key="teach_stop", on_click=job.stop, help="Stop now and keep what it has learned so far.")


def teach_section(run: StoredRun) -> None:
    """The "Teach it your handwriting" section below the reading (the quick round shows by the canvas)."""
    st.divider()
    st.subheader("Teach it your handwriting", anchor=False)
    st.caption("Give it a few examples of how *you* write, and it learns them in a minute or two, without "
               "forgetting everyone else's digits. A new model is saved; the one you started from stays.")
    st.toggle("Keep my drawings on this server", key=KEEP_KEY,
              help="Off: your drawings last as long as this browser session and only you teach with them. "
              "On: they are kept in the server's shared folder of drawings.")
    drawings = _your_drawings()
    _show_counts(drawings)
    if problem := st.session_state.pop("teach_problem", None):
        st.warning(problem)
    job = session.TEACHING.job()
    if job is not None and not job.snapshot(with_metrics=False).done:
        _live_progress(job)
        return
    round_col, teach_col = st.columns(2)
    round_col.button("Quick round: draw each digit 3 times", key="teach_round_start",
                     disabled=bool(st.session_state.get(ROUND_KEY)),
                     on_click=lambda: st.session_state.update({ROUND_KEY: list(range(10)) * ROUND_REPEATS}))
    teach_col.button(f"Teach {run.name} my handwriting", key="teach_start", type="primary",
                     disabled=drawings is None or len(drawings) < MIN_DRAWINGS, on_click=_start_teaching, args=(run,),
                     help=f"Needs at least {MIN_DRAWINGS} drawings.")
    if job is not None:
        _show_result(job)
