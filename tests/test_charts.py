from __future__ import annotations

import numpy as np
import pytest

from digits.charts import (
    MAX_BATCH_POINTS,
    compare_runs,
    confusion_difference,
    confusion_heatmap,
    enlarge,
    per_class_bars,
    probability_bars,
    smoothed,
    training_curves,
)
from digits.training import Metrics


def test_smoothed_is_a_trailing_mean() -> None:
    assert smoothed([1, 2, 3, 4], 2).tolist() == pytest.approx([1, 1.5, 2.5, 3.5])
    assert smoothed([], 3).size == 0


def test_enlarge_keeps_pixels_square() -> None:
    image = np.array([[0, 255]], dtype=np.uint8)
    big = enlarge(image, 3)
    assert big.shape == (3, 6) and big.dtype == np.uint8 and (big[:, 3:] == 255).all()


def test_training_curves_thin_out_long_runs_and_label_honestly() -> None:
    steps = 5000
    metrics = Metrics(epochs=2, steps_per_epoch=2500, total_examples=10, batch_step=list(np.linspace(0, 2, steps)),
                      batch_loss=list(np.linspace(2, 0.1, steps)), batch_accuracy=list(np.linspace(0.1, 0.9, steps)),
                      epoch_loss=[1.0, 0.5], epoch_accuracy=[0.7, 0.9], val_loss=[0.9], val_accuracy=[0.8])
    figure = training_curves(metrics)
    names = {trace.name for trace in figure.data}
    assert "each training batch" in names and "validation (digits held out from training)" in names
    assert max(len(trace.x) for trace in figure.data) <= MAX_BATCH_POINTS
    assert figure.data[0].x[-1] == pytest.approx(2.0)  # the newest point is always kept


def test_heatmap_keeps_the_diagonal_off_the_mistakes_scale() -> None:
    confusion = np.diag([1000] * 10)
    confusion[4, 9] = 23
    figure = confusion_heatmap(confusion)
    _right_answers, wrong, cells = figure.data
    assert wrong.zmax == 23
    assert np.isnan(np.asarray(wrong.z, dtype=float)[4, 4]) and np.asarray(wrong.z)[4, 9] == 23
    # Each cell's click target: x the predicted digit, y the true one, and what the cell holds.
    at = list(zip(cells.x, cells.y, strict=True)).index(("9", "4"))
    assert "4 mistaken for 9" in cells.hovertext[at] and len(cells.x) == 100


@pytest.mark.parametrize(("most", "step"), [(1, 1), (2, 1), (3, 1), (9, 2), (23, 5)])
def test_the_mistakes_scale_counts_in_whole_mistakes(most: int, step: int) -> None:
    confusion = np.diag([1000] * 10)
    confusion[4, 9] = most
    colour_bar = confusion_heatmap(confusion).data[1].colorbar
    assert colour_bar.dtick == step and colour_bar.tickformat == "d"  # never 1.5 mistakes


def test_the_eleventh_probability_is_named_not_a_digit() -> None:
    labels = probability_bars(np.eye(11)[10]).data[0].x
    assert list(labels[:10]) == [str(d) for d in range(10)] and labels[10] == "not a digit"
    assert list(probability_bars(np.eye(10)[3]).data[0].x) == [str(d) for d in range(10)]


def test_precision_and_recall_ticks_tell_tenths_of_a_percent_apart() -> None:
    figure = per_class_bars(np.full(10, 0.995), np.full(10, 0.985), np.full(10, 0.99))
    assert figure.layout.yaxis.tickformat == ".1%"


def test_other_figures_build_from_plain_data() -> None:
    colours = probability_bars(np.eye(10)[7]).data[0].marker.color
    assert colours[7] != colours[0] and len(set(colours)) == 2
    assert len(per_class_bars(np.ones(10), np.ones(10), np.ones(10)).data) == 3
    assert len(compare_runs({"a": {"val_loss": [1, 0.5], "val_accuracy": [0.8, 0.9]}, "b": {}}).data) == 4
    difference = confusion_difference(np.eye(10, dtype=int), np.eye(10, dtype=int) + np.eye(10, k=1, dtype=int),
                                      ("a", "b"))
    assert np.asarray(difference.data[0].z, dtype=float)[0, 1] == 1
