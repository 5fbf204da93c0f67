"""What every session of this server shares: the model store, MNIST, loaded models and their evaluations, and
the registry of training jobs.

``st.cache_resource`` keeps the big read-only objects, keyed by run name *and* creation time so that a
replaced run never serves a stale model. Nothing returned from a cache is mutated.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from digits.background.engines import engine_from_environment
from digits.background.jobs import JobRegistry
from digits.data import IMAGE_SIZE, DataError, Mnist, load_mnist
from digits.store import DEFAULT_RUN, ModelStore, StoredRun, StoreError
from ui import server

if TYPE_CHECKING:
    import keras

    from digits.evaluation import Evaluation
    from digits.predict import ProbabilityFunction

MAX_JOBS_ENV = "DIGITS_MAX_TRAINING_JOBS"


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
    from digits.saved_probabilities import evaluation_of_run

    # From the test probabilities saved with the run when it has them: no TensorFlow before the first figures.
    return evaluation_of_run(store().folder(name), _cached_mnist(), lambda: _cached_model(name, created))


@st.cache_resource(max_entries=8, show_spinner=False)
def _cached_test_reading(name: str, created: str) -> np.ndarray:
    return _cached_predictor(name, created)(_cached_mnist().x_test)


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


def test_reading(run: StoredRun) -> np.ndarray:
    """MNIST's test digits read as the Draw page reads a drawing (in five looks): the probabilities behind
    "not a digit" figures, whose decision was calibrated on digits read that way."""
    assert run.record is not None
    return _cached_test_reading(run.name, run.record.created)


def forget_models() -> None:
    """After a run is deleted: drop the cached models and evaluations (all of them: Streamlit clears a cache
    whole)."""
    for cached in (_cached_model, _cached_predictor, _cached_evaluation, _cached_test_reading):
        cached.clear()


@st.cache_resource
def job_registry() -> JobRegistry:
    """One registry per server, shared by every session, so jobs outlive reruns and refreshes. Made on the first
    visit to a server just started, which carries on the runs a lost server was training."""
    registry = JobRegistry(engine_from_environment(max_running=int(os.environ.get(MAX_JOBS_ENV) or 2)))
    registry.resume_interrupted(store())
    return registry


def usable_runs() -> list[StoredRun]:
    return [run for run in store().list() if run.record is not None]


def run_label(run: StoredRun) -> str:
    record = run.record
    if record is None:
        return f"{run.name} (damaged)"
    accuracy = record.test_accuracy
    kind = record.hyperparameters.get("model", "?").upper()
    if run.name == DEFAULT_RUN:
        kind += ", ships with the app"
    return f"{run.name} · {kind}" + (f" · {accuracy:.1%} on test digits" if accuracy is not None else "")


def load_model_or_explain(run: StoredRun) -> keras.Model | None:
    try:
        return model(run)
    except StoreError as error:
        st.error(f"**This model cannot be used.** {error}\n\nPick another one, or train a new one.")
        return None
