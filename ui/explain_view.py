"""The Draw page's "What made it say 7": a heat map over the model's 28x28 view of one digit.

It runs after the prediction has been sent to the browser (the page shows the answer first), as a
fragment, so the runner-up toggle recomputes only the map, not the reading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from digits.charts import enlarge, saliency_overlay
from digits.data import IMAGE_SIZE
from digits.explain import SaliencyFunction, make_saliency, ranked_digits
from digits.predict import Prediction
from digits.store import StoredRun
from ui import resources

if TYPE_CHECKING:
    import keras

LAST_DRAWING_KEY = "explain_last_drawing"  # the last digit drawn, for Evaluate's feature maps
VIEW_SCALE = 6  # 28 px shown as 168, the size of the page's "what the model sees"


@st.cache_resource(max_entries=8, show_spinner=False)
def _cached_saliency(name: str, created: str, _model: keras.Model) -> SaliencyFunction:
    saliency = make_saliency(_model)
    saliency(np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), np.uint8), np.zeros(1))  # compiled now, not at the first drawing
    return saliency


def saliency_function(run: StoredRun) -> SaliencyFunction:
    """The run's compiled saliency function (cached per run, like its predictor)."""
    assert run.record is not None
    return _cached_saliency(run.name, run.record.created, resources.model(run))


def warm_up(run: StoredRun) -> None:
    """Compile the run's saliency function now, while the person is still drawing: on a server just started
    it takes about a second, which the first heat map would otherwise wait for."""
    saliency_function(run)


def heat_map(run: StoredRun, image: np.ndarray, digit: int) -> np.ndarray:
    """What pushed the model toward ``digit`` on this 28x28 image, drawn over it, enlarged for the page."""
    saliency = saliency_function(run)(image, np.array([digit]))[0]
    return enlarge(saliency_overlay(image, saliency), VIEW_SCALE)


def how_to_read(digit: int) -> str:
    return (f"Coloured pixels pushed the model toward **{digit}**, yellow the most; grey ink without colour did "
            f"not help it say {digit}, or spoke against it.")


@st.fragment
def why_it_said(run: StoredRun, image: np.ndarray, prediction: Prediction, key: str) -> None:
    """The heat map for the answer, and a toggle to see what pushes the model toward its runner-up."""
    st.session_state[LAST_DRAWING_KEY] = image
    answer, second = ranked_digits(prediction.probabilities)[:2]
    runner_up = st.toggle(f"What would make it a {second}?", key=f"draw_why_runner_up_{key}",
                          help=f"Show what pushes the model toward {second}, the digit it rated second.")
    digit = second if runner_up else answer
    st.image(heat_map(run, image, digit), width=IMAGE_SIZE * VIEW_SCALE,
             caption=f"What made it say {digit}" if digit == answer else f"What looks like a {digit} to it")
    st.caption(how_to_read(digit))
