"""What one browser session keeps while its person moves between pages: the current model, its training jobs
and the runs they saved, and the choices made in widgets.

Getters here only read; the frame (streamlit_app.py) writes what must follow the person, through
``follow_the_person`` and the sidebar's ``model_picker``, once per script run, and a page through
``JobPlace.remember`` when it starts a job.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import streamlit as st

from digits.background.jobs import Job, Snapshot
from digits.store import DEFAULT_RUN, StoredRun
from ui import resources

KEPT_KEY = "kept_widget_values"
CURRENT_MODEL_KEY = "current_model"
PICKED_KEY = "picked_run"  # the run the sidebar shows as current in this script run, for the page
SESSION_JOBS_KEY = "session_job_ids"  # every training job this browser session started
TRAINED_HERE_KEY = "runs_trained_here"  # names of the runs those jobs saved
PICKER_KEY = "sidebar_model"


def keep_widget_values(keys: Iterable[str]) -> None:
    """Call at the top of a page, before its widgets: the person's choices survive a visit to another page.

    Streamlit forgets a widget's value when a script run ends without drawing it, as happens on every other
    page; so each run notes the values, and puts back those Streamlit has dropped.
    """
    kept = st.session_state.setdefault(KEPT_KEY, {})
    for key in keys:
        if key in st.session_state:
            kept[key] = st.session_state[key]
        elif key in kept:
            st.session_state[key] = kept[key]


def session_owner() -> str:
    return st.session_state.setdefault("session_owner", uuid.uuid4().hex)


@dataclass(frozen=True)
class JobPlace:
    """Where a session keeps one kind of its jobs (a run, a race, a teaching): under ``state_key`` in its state,
    and under ``query_key`` in the address (comma-separated ids), so a browser refresh finds them again."""

    state_key: str
    query_key: str

    def jobs(self) -> list[Job]:
        """The jobs kept here that the registry still holds (only reads)."""
        ids = st.session_state.get(self.state_key) or (st.query_params.get(self.query_key) or "").split(",")
        registry = resources.job_registry()
        return [job for job in map(registry.get, filter(None, ids)) if job is not None]

    def job(self) -> Job | None:
        """The one job kept here, for places that hold one (only reads)."""
        return next(iter(self.jobs()), None)

    def remember(self, jobs: list[Job]) -> None:
        """Make ``jobs`` the session's jobs of this kind, and its own: it may delete the runs they save. (The frame
        puts them in the address: set from a callback, as a Start button does, the address did not change.)"""
        st.session_state[self.state_key] = [job.job_id for job in jobs]
        st.session_state.setdefault(SESSION_JOBS_KEY, []).extend(job.job_id for job in jobs)

    def write_address(self) -> None:
        """Keep the jobs found (through the state, or the address after a refresh) in both: page switches drop
        the address's query."""
        ids = [job.job_id for job in self.jobs()]
        if ids:
            st.session_state[self.state_key] = ids
            if st.query_params.get(self.query_key) != ",".join(ids):
                st.query_params[self.query_key] = ",".join(ids)


TRAINING = JobPlace("train_job_id", "job")  # the Train page's run
RACE = JobPlace("compare_race", "race")  # the Train page's race of settings
TEACHING = JobPlace("teach_job_id", "teach")  # the Draw page's teaching
JOB_PLACES = (TRAINING, RACE, TEACHING)


def runs_trained_here() -> frozenset[str]:
    """The saved runs this browser session trained: only it may delete them from the pages (a class shares
    one server). The CLI's delete stays the server owner's tool."""
    return frozenset(st.session_state.get(TRAINED_HERE_KEY, ()))


def picked_run() -> StoredRun | None:
    """The model Evaluate and Draw use, as the sidebar shows it in this script run."""
    return st.session_state.get(PICKED_KEY)


def _current_run(runs: list[StoredRun]) -> StoredRun | None:
    """The model Evaluate and Draw use: the person's choice, else the shipped default model (trained to
    read drawings well), else the newest saved run, of the usable ``runs``."""
    by_name = {run.name: run for run in runs}
    wanted = st.session_state.get(CURRENT_MODEL_KEY) or st.query_params.get("model")
    for name in (wanted, DEFAULT_RUN):
        if name in by_name:
            return by_name[name]
    return runs[0] if runs else None


def set_current_model(name: str) -> None:
    st.session_state[CURRENT_MODEL_KEY] = name  # model_picker() puts it in the address


def forget_run(name: str) -> None:
    """After a run is deleted: no cached copy of it is served, and this session stops pointing at it."""
    resources.forget_models()
    if st.session_state.get(CURRENT_MODEL_KEY) == name:
        del st.session_state[CURRENT_MODEL_KEY]
        st.query_params.pop("model", None)


def saved_run_name(snapshot: Snapshot) -> str | None:
    """The name the job's model was saved under, once it has been saved."""
    return snapshot.record.name if snapshot.status in ("finished", "stopped", "interrupted") and snapshot.record \
        else None


def note_runs_trained_here() -> None:
    """Note the runs this session's jobs have saved, while the registry still holds the jobs."""
    registry = resources.job_registry()
    trained = st.session_state.setdefault(TRAINED_HERE_KEY, [])
    for job_id in st.session_state.get(SESSION_JOBS_KEY, ()):
        job = registry.get(job_id)
        name = saved_run_name(job.snapshot(with_metrics=False)) if job else None
        if name is not None and name not in trained:
            trained.append(name)


def follow_the_person() -> None:
    """Keep this session's jobs in the address (page switches drop it; a refresh needs it), note the runs its
    jobs saved, and make a run saved since the last script run the current model (once, so the person can
    still switch away from it)."""
    for place in JOB_PLACES:
        place.write_address()
    note_runs_trained_here()
    job = TRAINING.job()
    snapshot = job.snapshot(with_metrics=False) if job else None  # every rerun of every page: keep it cheap
    if snapshot is not None and saved_run_name(snapshot) is not None \
            and st.session_state.get("adopted_job") != snapshot.job_id:
        st.session_state.adopted_job = snapshot.job_id
        set_current_model(snapshot.record.name)


def model_picker() -> StoredRun | None:
    """The sidebar's "Current model" choice, shown on every page; the page finds it with picked_run()."""
    runs = resources.usable_runs()
    current = _current_run(runs)
    st.session_state[PICKED_KEY] = current
    with st.sidebar:
        if not runs:
            st.caption("No trained model yet. Train one on the **Train** page.")
            return None
        names = [run.name for run in runs]
        # Follow the current model when it changes elsewhere (a run just finished, a deletion), and keep
        # it in the address so a refresh or a shared link keeps it.
        st.session_state[PICKER_KEY] = current.name if current else names[0]
        if current and st.query_params.get("model") != current.name:
            st.query_params["model"] = current.name
        chosen = st.selectbox(
            "Current model",
            names,
            format_func=lambda name: resources.run_label(runs[names.index(name)]),
            help="The model the Evaluate and Draw pages use. A new training run becomes the current model.",
            key=PICKER_KEY,
            on_change=lambda: set_current_model(st.session_state[PICKER_KEY]),
        )
        st.session_state[PICKED_KEY] = runs[names.index(chosen)]
        return st.session_state[PICKED_KEY]


