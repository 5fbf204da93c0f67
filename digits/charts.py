"""Plotly figures built from plain data; no Streamlit here, so pages and tests share them."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from digits.data import NUM_CLASSES
from digits.training import Metrics

NOT_A_DIGIT_LABEL = "not a digit"  # the name of a model's 11th output on the charts

TRAIN_COLOUR = "#1f77b4"
VALIDATION_COLOUR = "#ff7f0e"
BATCH_COLOUR = "rgba(31, 119, 180, 0.25)"
MAX_BATCH_POINTS = 1500  # more points than pixels only slows the browser


def _decimate(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_BATCH_POINTS evenly spaced points, always keeping the newest."""
    x_array, y_array = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x_array) <= MAX_BATCH_POINTS:
        return x_array, y_array
    keep = np.unique(np.linspace(0, len(x_array) - 1, MAX_BATCH_POINTS).round().astype(int))
    return x_array[keep], y_array[keep]


def smoothed(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over ``window`` batches (shorter at the start), to show the trend in noisy batches."""
    array = np.asarray(values, dtype=float)
    if len(array) == 0:
        return array
    sums = np.cumsum(np.insert(array, 0, 0.0))
    starts = np.maximum(np.arange(1, len(array) + 1) - window, 0)
    return (sums[1:] - sums[starts]) / (np.arange(1, len(array) + 1) - starts)


def training_curves(metrics: Metrics, height: int = 380) -> go.Figure:
    """Loss and accuracy side by side: each batch (faint), its trend, and each epoch's figures."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss (lower is better)", "Accuracy (higher is better)"))
    window = metrics.recent_window
    epochs_x = np.arange(1, len(metrics.epoch_loss) + 1)
    for column, (batch, epoch, validation) in enumerate(
        [
            (metrics.batch_loss, metrics.epoch_loss, metrics.val_loss),
            (metrics.batch_accuracy, metrics.epoch_accuracy, metrics.val_accuracy),
        ],
        start=1,
    ):
        first = column == 1
        x, y = _decimate(metrics.batch_step, batch)
        trend_x, trend_y = _decimate(metrics.batch_step, smoothed(batch, window))
        figure.add_scatter(x=x, y=y, mode="lines", line={"color": BATCH_COLOUR, "width": 1},
                           name="each training batch", legendgroup="batch", showlegend=first, row=1, col=column)
        figure.add_scatter(x=trend_x, y=trend_y, mode="lines", line={"color": TRAIN_COLOUR, "width": 2},
                           name=f"training, mean of last {window} batches", legendgroup="trend", showlegend=first,
                           row=1, col=column)
        figure.add_scatter(x=epochs_x, y=epoch, mode="markers", marker={"color": TRAIN_COLOUR, "size": 9},
                           name="training, whole epoch", legendgroup="epoch", showlegend=first, row=1, col=column)
        figure.add_scatter(x=epochs_x[: len(validation)], y=validation, mode="lines+markers",
                           line={"color": VALIDATION_COLOUR, "width": 2}, marker={"size": 9},
                           name="validation (digits held out from training)", legendgroup="val", showlegend=first,
                           row=1, col=column)
    figure.update_xaxes(title_text="epoch", range=[0, metrics.epochs])
    figure.update_yaxes(rangemode="tozero", row=1, col=1)
    figure.update_yaxes(range=[0, 1.01], tickformat=".0%", row=1, col=2)
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.2},
        uirevision="keep",  # keep the person's zoom while new points arrive
    )
    return figure


def compare_runs(histories: dict[str, dict[str, list[float]]], height: int = 360) -> go.Figure:
    """Validation accuracy and loss per epoch of several saved runs, overlaid."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Validation loss", "Validation accuracy"))
    for index, (name, history) in enumerate(histories.items()):
        colour = f"hsl({(index * 67) % 360}, 65%, 45%)"
        for column, key in enumerate(("val_loss", "val_accuracy"), start=1):
            values = history.get(key) or []
            figure.add_scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers", name=name,
                               line={"color": colour}, legendgroup=name, showlegend=column == 1, row=1, col=column)
    figure.update_xaxes(title_text="epoch", dtick=1)
    figure.update_yaxes(tickformat=".1%", row=1, col=2)
    figure.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure


# One colour per runner of a race, far apart for colour-blind eyes too (blue, orange, green, purple).
RACE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")


def race_curves(runners: dict[str, Metrics], by_time: bool = True, height: int = 400) -> go.Figure:
    """Several runs learning, on one chart, one colour per run: the trend of each batch's loss and accuracy
    (line) and the validation figures after each epoch (diamonds). ``by_time``: x is seconds of training,
    so the race shows who gets where first; else epochs, so it shows who learns more per pass."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss (lower is better)", "Accuracy (higher is better)"))
    for index, (label, metrics) in enumerate(runners.items()):
        colour = RACE_COLOURS[index % len(RACE_COLOURS)]
        window = metrics.recent_window
        batch_x = metrics.batch_seconds if by_time else metrics.batch_step
        epoch_ends = [min((epoch + 1) * metrics.steps_per_epoch, len(batch_x)) - 1
                      for epoch in range(len(metrics.val_loss))]
        epoch_x = [batch_x[end] for end in epoch_ends if end >= 0] if by_time else list(range(1, len(epoch_ends) + 1))
        for column, (batch, validation) in enumerate(
            [(metrics.batch_loss, metrics.val_loss), (metrics.batch_accuracy, metrics.val_accuracy)], start=1
        ):
            x, y = _decimate(batch_x, smoothed(batch, window))
            figure.add_scatter(x=x, y=y, mode="lines", line={"color": colour, "width": 2}, name=label,
                               legendgroup=label, showlegend=column == 1, row=1, col=column)
            figure.add_scatter(x=epoch_x, y=validation[: len(epoch_x)], mode="markers", name=f"{label}, validation",
                               marker={"color": colour, "size": 10, "symbol": "diamond"}, legendgroup=label,
                               showlegend=False, row=1, col=column)
    figure.update_xaxes(title_text="seconds of training" if by_time else "epoch", rangemode="tozero")
    figure.update_yaxes(rangemode="tozero", row=1, col=1)
    figure.update_yaxes(range=[0, 1.01], tickformat=".0%", row=1, col=2)
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.2, "title": {"text": "lines: training trend; diamonds: validation"}},
        uirevision="keep",
    )
    return figure


def enlarge(image: np.ndarray, scale: int = 4) -> np.ndarray:
    """Nearest-neighbour enlargement, so each of the model's pixels shows as a crisp square (grey or RGB)."""
    return np.asarray(image).repeat(scale, axis=0).repeat(scale, axis=1)


def mistake_tick_step(wrong: np.ndarray) -> int:
    """A whole-number step for the mistakes' colour scale, about five ticks (mistakes come in whole ones)."""
    return max(1, math.ceil(max(float(np.nanmax(wrong)), 1) / 5))


def confusion_heatmap(confusion: np.ndarray, height: int = 520) -> go.Figure:
    """True digit (rows) against predicted digit (columns).

    The diagonal (the right answers, thousands each) is drawn in grey on its own scale so that the
    mistakes, a few to a few dozen, get the whole colour scale and stay visible. Plotly cannot select a
    heat map's cells, so an invisible square marker on each cell takes the hover and the click: a
    selected point's x is the predicted digit, its y the true one.
    """
    confusion = np.asarray(confusion)
    digits = [str(d) for d in range(confusion.shape[0])]
    diagonal = np.eye(confusion.shape[0], dtype=bool)
    right = np.where(diagonal, confusion, np.nan)
    wrong = np.where(diagonal, np.nan, confusion).astype(float)
    hover = [
        [
            f"{confusion[t, p]:,} {'digit' if confusion[t, p] == 1 else 'digits'} "
            + (f"{t} read correctly" if t == p else f"{t} mistaken for {p}")
            for p in range(confusion.shape[1])
        ]
        for t in range(confusion.shape[0])
    ]
    figure = go.Figure()
    figure.add_heatmap(z=right, x=digits, y=digits, colorscale=[[0, "#d9d9d9"], [1, "#bdbdbd"]], showscale=False,
                       text=confusion, texttemplate="%{text}", hoverinfo="skip", xgap=2, ygap=2)
    figure.add_heatmap(z=wrong, x=digits, y=digits, colorscale="OrRd", zmin=0, zmax=max(float(np.nanmax(wrong)), 1),
                       colorbar={"title": "mistakes", "tickformat": "d", "dtick": mistake_tick_step(wrong)},
                       text=np.where(diagonal, "", confusion.astype(str)),
                       texttemplate="%{text}", hoverinfo="skip", xgap=2, ygap=2)
    cells = [(true, predicted) for true in range(len(digits)) for predicted in range(len(digits))]
    figure.add_scatter(x=[digits[predicted] for _, predicted in cells], y=[digits[true] for true, _ in cells],
                       mode="markers", marker={"symbol": "square", "size": 36, "color": "rgba(0, 0, 0, 0)"},
                       hovertext=[hover[true][predicted] for true, predicted in cells], hoverinfo="text",
                       showlegend=False)
    figure.update_xaxes(title_text="predicted digit", side="top", type="category")
    figure.update_yaxes(title_text="true digit", autorange="reversed", type="category")
    figure.update_layout(height=height, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return figure


def per_class_bars(precision: np.ndarray, recall: np.ndarray, f1: np.ndarray, height: int = 320) -> go.Figure:
    figure = go.Figure()
    digits = [str(d) for d in range(len(precision))]
    for name, values in (("precision", precision), ("recall", recall), ("F1", f1)):
        figure.add_bar(x=digits, y=values, name=name)
    low = float(min(np.min(precision), np.min(recall), np.min(f1)))
    # The bars differ by tenths of a percent: whole-percent ticks would read 100%, 100%, 99%, 99%...
    figure.update_yaxes(range=[max(low - 0.02, 0), 1], tickformat=".1%")
    figure.update_xaxes(title_text="digit", type="category")
    figure.update_layout(barmode="group", height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return figure


def confusion_difference(first: np.ndarray, second: np.ndarray, names: tuple[str, str],
                         height: int = 480) -> go.Figure:
    """Where two models' mistakes differ: second minus first, off the diagonal only."""
    difference = (np.asarray(second) - np.asarray(first)).astype(float)
    np.fill_diagonal(difference, np.nan)
    digits = [str(d) for d in range(difference.shape[0])]
    limit = max(float(np.nanmax(np.abs(difference))), 1)
    hover = [
        [
            ""
            if t == p
            else f"{t} mistaken for {p}: {int(first[t][p])} by {names[0]}, {int(second[t][p])} by {names[1]}"
            for p in range(difference.shape[1])
        ]
        for t in range(difference.shape[0])
    ]
    figure = go.Figure(
        go.Heatmap(z=difference, x=digits, y=digits, colorscale="RdBu_r", zmid=0, zmin=-limit, zmax=limit,
                   text=np.nan_to_num(difference).astype(int), texttemplate="%{text}", hovertext=hover,
                   hoverinfo="text", xgap=2, ygap=2, colorbar={"title": f"more by<br>{names[1]}"})
    )
    figure.update_xaxes(title_text="predicted digit", side="top", type="category")
    figure.update_yaxes(title_text="true digit", autorange="reversed", type="category")
    figure.update_layout(height=height, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return figure


def probability_bars(probabilities: Sequence[float], height: int = 260) -> go.Figure:
    """The model's probability for each digit (and, for a model with an 11th output, for "not a digit"), the
    chosen one highlighted."""
    values = np.asarray(probabilities, dtype=float)
    colours = ["#e4572e" if digit == values.argmax() else "#9fb3c8" for digit in range(len(values))]
    labels = [str(d) if d < NUM_CLASSES else NOT_A_DIGIT_LABEL for d in range(len(values))]
    figure = go.Figure(
        go.Bar(x=labels, y=values, marker_color=colours,
               text=[f"{v:.0%}" if v >= 0.01 else "" for v in values], textposition="outside",
               hovertemplate="%{x}: %{y:.1%}<extra></extra>")
    )
    figure.update_yaxes(range=[0, 1.15], tickformat=".0%", title_text="probability")
    figure.update_xaxes(type="category", title_text="digit")
    figure.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return figure


# Images for the "why" and "what it has learned" views: plain RGB arrays (fast to send, no plotly).
Colour = tuple[float, float, float]
HEAT_STOPS: tuple[tuple[float, Colour], ...] = (
    (0.0, (0.35, 0.0, 0.0)), (0.4, (0.85, 0.05, 0.0)), (0.75, (1.0, 0.55, 0.0)), (1.0, (1.0, 1.0, 0.35)),
)
DIVERGING_STOPS: tuple[tuple[float, Colour], ...] = (  # -1 blue, 0 white, +1 red
    (-1.0, (0.13, 0.40, 0.67)), (0.0, (0.97, 0.97, 0.97)), (1.0, (0.70, 0.09, 0.17)),
)
INK_UNDER_HEAT = 0.45  # the drawing shows dimmed under the heat map, so both can be seen
HEAT_OPACITY_GAIN = 3.0  # the heat covers the ink fully from a third of the map's maximum up
GRID_GAP_COLOUR = (255, 255, 255)


def _ramp(values: np.ndarray, stops: tuple[tuple[float, Colour], ...]) -> np.ndarray:
    """Colours (..., 3) in 0..1 for ``values``, interpolated linearly between the stops."""
    positions = [position for position, _ in stops]
    return np.stack([np.interp(values, positions, [colour[channel] for _, colour in stops]) for channel in range(3)],
                    axis=-1)


def to_rgb8(colours: np.ndarray) -> np.ndarray:
    return (np.clip(colours, 0, 1) * 255).round().astype(np.uint8)


def saliency_overlay(image: np.ndarray, saliency: np.ndarray) -> np.ndarray:
    """The 28x28 input in grey with its saliency over it, dark red (little) to yellow (most): RGB uint8.

    The map is scaled to its own maximum, so it shows where the push comes from, not how strong it is."""
    ink = np.asarray(image, dtype=np.float64) / (255.0 if np.asarray(image).dtype == np.uint8 else 1.0)
    saliency = np.asarray(saliency, dtype=np.float64)
    peak = saliency.max()
    level = saliency / peak if peak > 0 else np.zeros_like(saliency)
    opacity = np.clip(level * HEAT_OPACITY_GAIN, 0, 1)[..., np.newaxis]
    grey = np.repeat((ink * INK_UNDER_HEAT)[..., np.newaxis], 3, axis=-1)
    return to_rgb8(grey * (1 - opacity) + _ramp(level, HEAT_STOPS) * opacity)


def diverging_image(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Weights as colours: red where positive, blue where negative, white near zero (RGB uint8).

    ``limit`` (default: the largest magnitude) is the value drawn at full colour; share one limit
    between images to compare them."""
    values = np.asarray(values, dtype=np.float64)
    limit = float(np.abs(values).max()) if limit is None else limit
    return to_rgb8(_ramp(values / limit if limit > 0 else np.zeros_like(values), DIVERGING_STOPS))


def robust_limit(values: np.ndarray, percentile: float = 99) -> float:
    """A colour limit for ``diverging_image`` that a few extreme weights cannot wash out (0 when all are 0)."""
    return float(np.percentile(np.abs(np.asarray(values)), percentile))


def image_grid(images: list[np.ndarray] | np.ndarray, columns: int, scale: int = 1, gap: int = 1) -> np.ndarray:
    """Equal-sized RGB images (h, w, 3) in rows of ``columns``, each enlarged ``scale`` times, ``gap`` pixels
    apart on white."""
    height, width = np.asarray(images[0]).shape[:2]
    height, width = height * scale, width * scale
    rows = -(-len(images) // columns)
    grid = np.empty((rows * (height + gap) - gap, columns * (width + gap) - gap, 3), dtype=np.uint8)
    grid[:] = GRID_GAP_COLOUR
    for index, tile in enumerate(images):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        grid[top:top + height, left:left + width] = enlarge(tile, scale)
    return grid


GALLERY_GAP = 4  # pixels of the model's 28x28 images between tiles
GALLERY_CAPTION_SPACE = 10  # ... and below each tile, for its caption
GALLERY_PIXEL = 2.5  # screen pixels per image pixel, in the Evaluate page's gallery column
SELECTED_COLOUR = "#e4572e"


def image_gallery(images: Sequence[np.ndarray], captions: Sequence[str], columns: int,
                  selected: int | None = None) -> go.Figure:
    """28x28 greyscale images tiled into one heat map, captioned, with the ``selected`` one outlined.

    Plotly cannot select a heat map's cells, so an invisible marker at each image's centre takes the
    hover and the click (the nearest one, wherever the pointer is); ``gallery_tile`` turns the clicked
    point's x and y back into the image's position."""
    rows = -(-len(images) // columns)
    cell_width, cell_height = 28 + GALLERY_GAP, 28 + GALLERY_CAPTION_SPACE
    pixels = np.full((rows * cell_height, columns * cell_width), np.nan)
    figure = go.Figure()
    centres = []
    for position, (image, caption) in enumerate(zip(images, captions, strict=True)):
        top, left = (position // columns) * cell_height, (position % columns) * cell_width
        pixels[top:top + 28, left:left + 28] = image
        centres.append((left + 13.5, top + 13.5))
        figure.add_annotation(x=left + 13.5, y=top + 28 + GALLERY_CAPTION_SPACE / 2 - 1, text=caption,
                              showarrow=False, font={"size": 12})
        if position == selected:
            figure.add_shape(type="rect", x0=left - 1.5, x1=left + 28.5, y0=top - 1.5, y1=top + 28.5,
                             line={"color": SELECTED_COLOUR, "width": 3})
    figure.add_heatmap(z=pixels, colorscale=[[0, "black"], [1, "white"]], zmin=0, zmax=255, showscale=False,
                       hoverinfo="skip")
    figure.add_scatter(x=[x for x, _ in centres], y=[y for _, y in centres], mode="markers",
                       marker={"size": 40, "color": "rgba(0, 0, 0, 0)"}, hovertext=[
                           f"{caption}<br>click to see why" for caption in captions], hoverinfo="text")
    figure.update_xaxes(visible=False, range=[-2, columns * cell_width - GALLERY_GAP + 1], constrain="domain")
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    figure.update_layout(height=rows * cell_height * GALLERY_PIXEL + 20, margin={"l": 0, "r": 0, "t": 10, "b": 10},
                         plot_bgcolor="white", showlegend=False, hoverdistance=-1)
    return figure


def gallery_tile(x: float, y: float, columns: int, count: int) -> int | None:
    """The position of the image at cell (x, y) of an ``image_gallery``; None between images."""
    column, column_offset = divmod(round(x), 28 + GALLERY_GAP)
    row, row_offset = divmod(round(y), 28 + GALLERY_CAPTION_SPACE)
    position = row * columns + column
    inside = column_offset < 28 and row_offset < 28 and 0 <= column < columns
    return position if inside and 0 <= position < count else None
