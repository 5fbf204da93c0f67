"""Snapshots of a network (digits.snapshots) drawn: pictures as RGB arrays (for the pages, PNG files and
TensorBoard alike) and plotly figures for the map of the digits and the accuracy per digit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont

from digits.charts import diverging_image, enlarge, image_grid, robust_limit
from digits.data import IMAGE_SIZE, NUM_CLASSES
from digits.learned import inked_pixels
from digits.snapshots import NOT_A_DIGIT_ANSWER, NetworkSnapshot, Probe

DIGIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
RIGHT_COLOUR, WRONG_COLOUR = (26, 127, 55), (190, 30, 45)
STRIP_SCALE = 2  # screen pixels per image pixel in the strip picture
STRIP_CAPTION = 22  # pixels under each digit for its answer and the mark
GRID_COLUMNS = 16


def answer_text(answer: int) -> str:
    return "?" if answer == NOT_A_DIGIT_ANSWER else str(answer)


def learned_pictures(snapshot: NetworkSnapshot, probe: Probe) -> list[tuple[str, str, np.ndarray]]:
    """(short name, title, RGB image) of what the network has learned so far: for an MLP the pattern that votes for
    each digit and its first-layer units, for a CNN its first filters and the feature maps of one digit."""
    if snapshot.convolutional:
        filters = snapshot.filters.astype(np.float32)
        maps = snapshot.feature_maps
        return [
            ("filters", f"First-layer filters ({filters.shape[1]}×{filters.shape[2]})",
             image_grid([diverging_image(kernel) for kernel in filters], GRID_COLUMNS, scale=10, gap=3)),
            ("feature-maps", "What the filters find in a 7",
             image_grid([np.repeat(feature[..., np.newaxis], 3, axis=-1) for feature in maps], GRID_COLUMNS,
                        scale=max(1, IMAGE_SIZE // maps.shape[1]), gap=2)),  # a strided layer's 14x14 as 28x28
        ]
    inked = inked_pixels(probe.map_images)  # weights on pixels no digit inks barely move: blank them
    patterns, units = snapshot.patterns.astype(np.float32) * inked, snapshot.units.astype(np.float32) * inked
    return [
        ("patterns", "The pattern that votes for each digit, 0 to 9",
         image_grid([diverging_image(pattern, robust_limit(pattern)) for pattern in patterns], 10, scale=2, gap=4)),
        ("units", f"{len(units)} of its first-layer units",
         image_grid([diverging_image(unit, robust_limit(units)) for unit in units], GRID_COLUMNS, scale=1, gap=2)),
    ]


def _mark(draw: ImageDraw.ImageDraw, left: int, top: int, right: bool) -> None:
    """A tick or a cross, 12 pixels wide: right and wrong told apart by shape as well as by colour."""
    colour = RIGHT_COLOUR if right else WRONG_COLOUR
    if right:
        draw.line([(left, top + 6), (left + 4, top + 10), (left + 11, top + 1)], fill=colour, width=3)
    else:
        draw.line([(left + 1, top + 1), (left + 10, top + 10)], fill=colour, width=3)
        draw.line([(left + 1, top + 10), (left + 10, top + 1)], fill=colour, width=3)


def strip_picture(snapshot: NetworkSnapshot, probe: Probe) -> np.ndarray:
    """The strip's digits in a row, each with the network's answer under it and a tick or a cross (RGB)."""
    size = 28 * STRIP_SCALE
    gap = 6
    count = len(probe.strip_labels)
    canvas = Image.new("RGB", (count * (size + gap) - gap, size + STRIP_CAPTION), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=16)
    for index, (image, label, answer) in enumerate(zip(probe.strip_images, probe.strip_labels,
                                                       snapshot.strip_answers, strict=True)):
        left = index * (size + gap)
        canvas.paste(Image.fromarray(enlarge(np.repeat(image[..., np.newaxis], 3, axis=-1), STRIP_SCALE)), (left, 0))
        right = int(answer) == int(label)
        draw.text((left + 8, size + 2), answer_text(int(answer)), fill=RIGHT_COLOUR if right else WRONG_COLOUR,
                  font=font)
        _mark(draw, left + 30, size + 6, right)
    return np.asarray(canvas)


MAP_PICTURE_SIZE = 360


def map_picture(snapshot: NetworkSnapshot, probe: Probe, size: int = MAP_PICTURE_SIZE) -> np.ndarray:
    """The map of the digits as an RGB picture (for files and TensorBoard; the pages use ``digit_map``): a dot
    per digit in its true digit's colour, an x where it is read wrong."""
    canvas = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(canvas)
    points = snapshot.map_points.astype(np.float32)
    limit = float(np.abs(points).max()) * 1.05 if len(points) and np.abs(points).max() > 0 else 1.0
    pixels = (points / limit + 1) / 2 * (size - 1)
    for (x, y), label, answer in zip(pixels, probe.map_labels, snapshot.map_answers, strict=True):
        colour = DIGIT_COLOURS[int(label)]
        y = size - 1 - y  # up is up, as on the page
        if answer == label:
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
        else:
            draw.line([(x - 3, y - 3), (x + 3, y + 3)], fill=colour, width=2)
            draw.line([(x - 3, y + 3), (x + 3, y - 3)], fill=colour, width=2)
    return np.asarray(canvas)


def digit_map(snapshot: NetworkSnapshot, probe: Probe, height: int = 420, legend: bool = True) -> go.Figure:
    """The probe's map digits where the last hidden layer puts them, one colour (and legend entry) per true
    digit; a digit read wrong is drawn as an x. Each point's ``customdata`` is its index in the probe's map.
    The view spans all but the farthest 1% of the points, so a few outliers do not shrink the groups."""
    figure = go.Figure()
    points = snapshot.map_points.astype(np.float32)
    for digit in range(NUM_CLASSES):
        of_digit = probe.map_labels == digit
        for right in (True, False):
            chosen = np.flatnonzero(of_digit & ((snapshot.map_answers == probe.map_labels) == right))
            figure.add_scatter(
                x=points[chosen, 0], y=points[chosen, 1], mode="markers", name=str(digit), legendgroup=str(digit),
                showlegend=right, marker={"color": DIGIT_COLOURS[digit], "size": 7 if right else 8, "opacity": 0.8,
                                          "symbol": "circle" if right else "x"},
                customdata=chosen, text=[answer_text(int(answer)) for answer in snapshot.map_answers[chosen]],
                hovertemplate=f"a {digit}, read as %{{text}}<extra></extra>",
            )
    limits = np.percentile(np.abs(points), 99, axis=0) * 1.1 if len(points) else np.ones(2)
    figure.update_xaxes(visible=False, range=[-limits[0], limits[0]])
    figure.update_yaxes(visible=False, range=[-limits[1], limits[1]])
    figure.update_layout(height=height, margin={"l": 0, "r": 0, "t": 10, "b": 0}, plot_bgcolor="white",
                         showlegend=legend, legend={"title": {"text": "true digit"}, "itemsizing": "constant"},
                         clickmode="event+select")
    return figure


def digit_accuracy_bars(snapshot: NetworkSnapshot, probe: Probe, height: int = 260) -> go.Figure:
    """The share of the map's digits of each kind it reads right, as bars, labelled."""
    accuracy = snapshot.per_digit_accuracy(probe.map_labels)
    figure = go.Figure(go.Bar(x=[str(digit) for digit in range(NUM_CLASSES)], y=accuracy,
                              marker_color=list(DIGIT_COLOURS), text=[f"{value:.0%}" for value in accuracy],
                              textposition="outside", hovertemplate="%{x}: %{y:.0%} read right<extra></extra>"))
    figure.update_yaxes(range=[0, 1.15], tickformat=".0%", title="read right")
    figure.update_xaxes(title="true digit", type="category")
    figure.update_layout(height=height, margin={"l": 0, "r": 0, "t": 10, "b": 0}, plot_bgcolor="white")
    return figure


def when_text(snapshot: NetworkSnapshot) -> str:
    """When the snapshot was taken, in words."""
    if snapshot.step == 0:
        return "before training: random weights"
    return f"after {snapshot.step:,} batch{'' if snapshot.step == 1 else 'es'} ({snapshot.epoch:.2f} epochs)"
