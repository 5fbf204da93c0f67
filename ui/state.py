"""Cached resources and per-session state for the pages.

Caches follow the GUIDE: ``st.cache_resource`` for big read-only objects (MNIST arrays, loaded
models, evaluations, the job registry), keyed by run name *and* creation time so a replaced run
never serves a stale model. Nothing returned from a cache is mutated.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from digits.data import IMAGE_SIZE, DataError, Mnist, load_mnist
from digits.jobs import Job, JobRegistry, engine_from_environment
from digits.store import DEFAULT_RUN, ModelStore, StoredRun, StoreError
from ui import server

if TYPE_CHECKING:
    import keras

    from digits.evaluation import Evaluation
    from digits.predict import ProbabilityFunction

MAX_JOBS_ENV = "DIGITS_MAX_TRAINING_JOBS"
CURRENT_MODEL_KEY = "current_model"
JOB_KEY = "train_job_id"
PICKER_KEY = "sidebar_model"


def store() -> ModelStore:
    return ModelStore()


@st.cache_resource(show_spinner="Loading the MNIST digits...")
def _cached_mnist() -> Mnist:
    return load_mnist()


def mnist_or_problem() -> tuple[Mnist | None, str | None]:
    """MNIST, or why it cannot be loaded (for callbacks, which cannot show anything themselves)."""
    try:
        return _cached_mnist(), None
    except DataError as error:
        return None, str(error)


def show_data_problem(problem: str) -> None:
    st.error(f"**The MNIST digits could not be loaded.**\n\n```\n{problem}\n```")


def mnist() -> Mnist:
    """MNIST, or a clear message on the page and the script stops (nothing below can work)."""
    data, problem = mnist_or_problem()
    if data is None:
        show_data_problem(problem or "")
        st.stop()
    return data


@st.cache_resource(max_entries=8, show_spinner="Loading the model...")
def _cached_model(name: str, created: str) -> keras.Model:
    return store().load(name)


@st.cache_resource(max_entries=8, show_spinner=False)
def _cached_predictor(name: str, created: str) -> ProbabilityFunction:
    from digits.predict import make_predictor

    probabilities = make_predictor(_cached_model(name, created))
    probabilities(np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), np.uint8))  # compiled now, not at the first drawing
    server.freeze_loaded_objects()
    return probabilities


@st.cache_resource(max_entries=8, show_spinner="Testing the model on 10,000 digits...")
def _cached_evaluation(name: str, created: str) -> Evaluation:
    from digits.evaluation import evaluate

    data = _cached_mnist()
    return evaluate(_cached_model(name, created), data.x_test, data.y_test)


def model(run: StoredRun) -> keras.Model:
    """The run's model; StoreError (with a message for the page) when its file is damaged."""
    assert run.record is not None
    return _cached_model(run.name, run.record.created)


def predictor(run: StoredRun) -> ProbabilityFunction:
    assert run.record is not None
    return _cached_predictor(run.name, run.record.created)


def evaluation(run: StoredRun) -> Evaluation:
    assert run.record is not None
    return _cached_evaluation(run.name, run.record.created)


def forget_run(name: str) -> None:
    """After a run is deleted: drop the cached models and evaluations (all of them: Streamlit clears a
    cache whole), and stop pointing at it."""
    for cached in (_cached_model, _cached_predictor, _cached_evaluation):
        cached.clear()
    if st.session_state.get(CURRENT_MODEL_KEY) == name:
        del st.session_state[CURRENT_MODEL_KEY]
        st.query_params.pop("model", None)


@st.cache_resource
def job_registry() -> JobRegistry:
    """One registry per server, shared by every session, so jobs outlive reruns and refreshes."""
    return JobRegistry(engine_from_environment(max_running=int(os.environ.get(MAX_JOBS_ENV) or 2)))


def session_owner() -> str:
    return st.session_state.setdefault("session_owner", uuid.uuid4().hex)


def current_job() -> Job | None:
    """This session's training job, found again through the URL after a browser refresh."""
    job_id = st.session_state.get(JOB_KEY) or st.query_params.get("job")
    job = job_registry().get(job_id) if job_id else None
    if job is not None:
        st.session_state[JOB_KEY] = job.job_id
        if st.query_params.get("job") != job.job_id:  # page switches drop it; a refresh needs it
            st.query_params["job"] = job.job_id
    return job


def remember_job(job: Job) -> None:
    """Make ``job`` this session's run. (current_job() puts it in the address: set from a callback, as
    the Start button does, the address in the browser did not change.)"""
    st.session_state[JOB_KEY] = job.job_id


def usable_runs() -> list[StoredRun]:
    return [run for run in store().list() if run.record is not None]


def current_run(runs: list[StoredRun] | None = None) -> StoredRun | None:
    """The model Evaluate and Draw use: the person's choice, else the shipped default model (trained to
    read drawings well), else the newest saved run. ``runs``: the listing, if the caller has it."""
    runs = usable_runs() if runs is None else runs
    by_name = {run.name: run for run in runs}
    wanted = st.session_state.get(CURRENT_MODEL_KEY) or st.query_params.get("model")
    for name in (wanted, DEFAULT_RUN):
        if name in by_name:
            return by_name[name]
    return runs[0] if runs else None


def set_current_model(name: str) -> None:
    st.session_state[CURRENT_MODEL_KEY] = name  # model_picker() puts it in the address


def run_label(run: StoredRun) -> str:
    record = run.record
    if record is None:
        return f"{run.name} (damaged)"
    accuracy = record.test_accuracy
    kind = record.hyperparameters.get("model", "?").upper()
    if run.name == DEFAULT_RUN:
        kind += ", ships with the app"
    return f"{run.name} · {kind}" + (f" · {accuracy:.1%} on test digits" if accuracy is not None else "")


def adopt_finished_run() -> None:
    """Once this session's training run has been saved, it becomes the current model (once only, so
    the person can still switch away from it)."""
    job = current_job()
    snapshot = job.snapshot(with_metrics=False) if job else None  # every rerun of every page: keep it cheap
    saved = snapshot is not None and snapshot.status in ("finished", "stopped") and snapshot.record is not None
    if saved and st.session_state.get("adopted_job") != snapshot.job_id:
        st.session_state.adopted_job = snapshot.job_id
        set_current_model(snapshot.record.name)


def model_picker() -> StoredRun | None:
    """The sidebar's "Current model" choice, shown on every page."""
    adopt_finished_run()
    runs = usable_runs()
    current = current_run(runs)
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
            format_func=lambda name: run_label(runs[names.index(name)]),
            help="The model the Evaluate and Draw pages use. A new training run becomes the current model.",
            key=PICKER_KEY,
            on_change=lambda: set_current_model(st.session_state[PICKER_KEY]),
        )
        return runs[names.index(chosen)]


def load_model_or_explain(run: StoredRun) -> keras.Model | None:
    try:
        return model(run)
    except StoreError as error:
        st.error(f"**This model cannot be used.** {error}\n\nPick another one, or train a new one.")
        return None
