from __future__ import annotations

import numpy as np
import pytest

from digits.evaluation import confusion_matrix, evaluation_from_probabilities, per_class_scores


def one_hot_probabilities(predicted: list[int], confidence: list[float]) -> np.ndarray:
    probabilities = np.zeros((len(predicted), 10))
    for row, (digit, p) in enumerate(zip(predicted, confidence, strict=True)):
        probabilities[row, :] = (1 - p) / 9
        probabilities[row, digit] = p
    return probabilities


def test_confusion_matrix_counts_true_rows_against_predicted_columns() -> None:
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]))
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[1, 1] == 1
    assert matrix[2, 2] == 2 and matrix[2, 0] == 1
    assert matrix.sum() == 6


def test_precision_recall_f1_by_hand() -> None:
    # true 0 0 1 2 2 2, predicted 0 1 1 2 2 0
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]))
    precision, recall, f1 = per_class_scores(matrix)
    assert precision[:3] == pytest.approx([1 / 2, 1 / 2, 1.0])
    assert recall[:3] == pytest.approx([1 / 2, 1.0, 2 / 3])
    assert f1[:3] == pytest.approx([0.5, 2 / 3, 0.8])
    assert precision[3:].tolist() == [0.0] * 7  # never predicted, never present: 0, not NaN


def test_mistakes_are_ordered_most_confident_first() -> None:
    labels = np.array([3, 3, 5, 7, 1])
    probabilities = one_hot_probabilities([3, 8, 6, 1, 1], [0.9, 0.6, 0.95, 0.7, 0.99])
    result = evaluation_from_probabilities(probabilities, labels)
    assert [(m.index, m.true_digit, m.predicted_digit) for m in result.mistakes] == [(2, 5, 6), (3, 7, 1), (1, 3, 8)]
    assert result.mistakes[0].confidence == pytest.approx(0.95)
    assert result.accuracy == pytest.approx(0.4)
    assert result.wrong == 3
    assert [m.index for m in result.mistakes_for(true_digit=3)] == [1]
    assert [m.index for m in result.mistakes_for(predicted_digit=1)] == [3]


def test_loss_is_mean_cross_entropy() -> None:
    labels = np.array([0, 1])
    probabilities = one_hot_probabilities([0, 0], [0.5, 0.8])  # second: true digit gets 0.2 / 9
    result = evaluation_from_probabilities(probabilities, labels)
    assert result.loss == pytest.approx(-(np.log(0.5) + np.log(0.2 / 9)) / 2)


def test_confused_pairs_in_order() -> None:
    labels = np.array([4, 4, 4, 9, 7])
    probabilities = one_hot_probabilities([9, 9, 4, 4, 1], [0.9] * 5)
    pairs = evaluation_from_probabilities(probabilities, labels).confused_pairs()
    assert pairs[0] == (4, 9, 2)
    assert set(pairs[1:]) == {(7, 1, 1), (9, 4, 1)}


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\(N, 10\)"):
        evaluation_from_probabilities(np.zeros((3, 9)), np.zeros(3))
