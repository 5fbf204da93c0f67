"""Evaluate's "What it has learned": the model's weights and its layers at work, as pictures for newcomers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from digits.charts import diverging_image, enlarge, image_grid, robust_limit
from digits.data import Mnist
from digits.learned import (
    digit_patterns,
    family,
    feature_maps,
    first_layer_filters,
    first_layer_units,
    inked_pixels,
)
from digits.store import StoredRun
from ui import explain_view, resources

if TYPE_CHECKING:
    import keras

GRID_COLUMNS = 16
TEST_DIGIT, LAST_DRAWING = "A test digit", "Your last drawing"


@st.cache_resource(max_entries=8, show_spinner="Reading what the model has learned...")
def _cached_weights(name: str, created: str, _model: keras.Model, _data: Mnist) -> tuple[np.ndarray, np.ndarray]:
    """The digit patterns and the first-layer units, blank where hardly any training digit has ink."""
    inked = inked_pixels(_data.x_train)
    return digit_patterns(_model, _data.x_test, _data.y_test) * inked, first_layer_units(_model) * inked


def what_it_has_learned(run: StoredRun, data: Mnist) -> None:
    st.subheader("What it has learned")
    model = resources.load_model_or_explain(run)
    if model is None:
        return
    if family(model) == "mlp":
        _dense_network(run, model, data)
    else:
        _convolutional_network(model, data)


def _dense_network(run: StoredRun, model: keras.Model, data: Mnist) -> None:
    assert run.record is not None
    st.caption(
        "**The pattern that votes for each digit**, read from the model's weights: ink on red pixels raises the "
        "digit's score, ink on blue pixels lowers it. The model reads a drawing by how well it matches each one."
    )
    patterns, units = _cached_weights(run.name, run.record.created, model, data)
    st.image([enlarge(diverging_image(pattern, robust_limit(pattern)), 3) for pattern in patterns],
             caption=[f"votes for {digit}" for digit in range(10)], width=80)
    st.caption(
        f"**Its {len(units)} hidden units.** Each square is one unit of the first layer: it adds up the ink on "
        "red pixels, takes away the ink on blue ones, and passes the sum on when it is positive. The patterns "
        "above are these units, combined by the last layer's votes. Pixels that hardly any training digit "
        "inks are left white: training barely moves their weights from their random start."
    )
    limit = robust_limit(units)  # one scale for all, so strong and weak units can be told apart
    st.image(image_grid([diverging_image(unit, limit) for unit in units], GRID_COLUMNS, scale=2, gap=2),
             caption="First-layer units, 28×28 weights each")


def _convolutional_network(model: keras.Model, data: Mnist) -> None:
    filters = first_layer_filters(model)
    size = filters.shape[1]
    st.caption(
        f"**The first layer's {len(filters)} filters.** Each is a {size}×{size} stencil the network slides over "
        "the image: wherever it stops, it adds the ink under red squares and takes away the ink under blue ones. "
        "Most find an edge or a stroke in one direction."
    )
    st.image(image_grid([diverging_image(kernel) for kernel in filters], GRID_COLUMNS, scale=12, gap=3),
             caption=f"First-layer filters, {size}×{size} each")

    last_drawing = st.session_state.get(explain_view.LAST_DRAWING_KEY)
    sources = [TEST_DIGIT, LAST_DRAWING] if last_drawing is not None else [TEST_DIGIT]
    source_col, index_col, image_col = st.columns([2, 2, 1], vertical_alignment="bottom")
    source = source_col.radio("Feature maps of", sources, key="evaluate_learned_source", horizontal=True,
                              help="Draw a digit on the Draw page to see what the layers make of it.")
    if source == LAST_DRAWING:
        image = last_drawing
    else:
        index = index_col.number_input("Test digit number", 0, len(data.y_test) - 1, 0,
                                       key="evaluate_learned_index")
        image = data.x_test[index]
    image_col.image(enlarge(image, 3), caption="the digit", width=84)
    st.caption(
        "**Feature maps: what each layer sees in this digit.** Each small square is one filter's answer at every "
        "position: dark red where it found its pattern strongly, white where not at all. The first layer finds "
        "strokes and edges; later layers combine them into corners, curves and loops, on a coarser grid."
    )
    for number, layer in enumerate(feature_maps(model, image), start=1):
        channels, height, width = layer.maps.shape
        scale = max(1, 56 // height)
        tiles = [diverging_image(feature, limit=float(feature.max()) or 1.0) for feature in layer.maps]
        st.image(image_grid(tiles, GRID_COLUMNS, scale=scale, gap=2),
                 caption=f"Layer {number} ({layer.layer}): {channels} maps of {height}×{width}")
