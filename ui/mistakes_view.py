"""Evaluate's mistake gallery: click a mistake to see it large, why the model said what it said, and what
would have made it right."""

from __future__ import annotations

import numpy as np
import streamlit as st

from digits.charts import enlarge, gallery_tile, image_gallery, probability_bars
from digits.evaluation import Mistake
from digits.store import StoredRun
from ui import explain_view

COLUMNS = 6
SELECTED_KEY = "evaluate_mistake"  # the test-set position of the mistake shown large


def gallery(run: StoredRun, images: np.ndarray, mistakes: list[Mistake], probabilities: np.ndarray,
            limit: int, key: str) -> None:
    """The first ``limit`` mistakes, clickable, and the chosen one (at first the most confident) close up."""
    shown = mistakes[:limit]
    event = st.session_state.get(key)  # this chart's last click, read before it is drawn to outline the choice
    points = event.selection.points if event and event.selection else []
    clicked = gallery_tile(points[0]["x"], points[0]["y"], COLUMNS, len(shown)) if points else None
    if clicked is not None:
        st.session_state[SELECTED_KEY] = shown[clicked].index
    chosen = next((position for position, mistake in enumerate(shown)
                   if mistake.index == st.session_state.get(SELECTED_KEY)), 0)
    st.plotly_chart(
        image_gallery([images[m.index] for m in shown],
                      [f"{m.true_digit} → {m.predicted_digit} ({m.confidence:.0%})" for m in shown], COLUMNS, chosen),
        key=key, on_select="rerun", selection_mode="points", config={"displayModeBar": False},
    )
    st.caption(("" if len(mistakes) <= limit else f"Showing {limit} of {len(mistakes)}. ")
               + "Caption: written → read (how sure it was). Click a mistake to see why.")
    close_up(run, images[shown[chosen].index], shown[chosen], probabilities[shown[chosen].index])


def close_up(run: StoredRun, image: np.ndarray, mistake: Mistake, probabilities: np.ndarray) -> None:
    wrong, right = mistake.predicted_digit, mistake.true_digit
    st.markdown(f"**Test digit {mistake.index:,}: written {right}, read as {wrong}**")
    image_col, wrong_col, right_col = st.columns(3)
    image_col.image(enlarge(image, explain_view.VIEW_SCALE), caption=f"The digit: a {right}", width="stretch")
    wrong_col.image(explain_view.heat_map(run, image, wrong), caption=f"Why it said {wrong}", width="stretch")
    right_col.image(explain_view.heat_map(run, image, right), caption=f"What looks like a {right} to it",
                    width="stretch")
    st.caption("Coloured pixels pushed the model toward the digit under the picture, yellow the most; grey ink "
               "without colour did not help it, or spoke against it.")
    st.plotly_chart(probability_bars(probabilities), key="evaluate_mistake_probabilities",
                    config={"displayModeBar": False})
