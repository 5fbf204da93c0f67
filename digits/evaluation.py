"""How good a model is and where it goes wrong: all from one pass of predicted probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from digits.data import NUM_CLASSES, normalise

if TYPE_CHECKING:
    import keras

# Keras clips probabilities to [epsilon, 1 - epsilon] in its cross-entropy; do the same so the
# loss here matches model.evaluate().
_EPSILON = 1e-7


@dataclass(frozen=True)
class Mistake:
    index: int  # position in the evaluated set
    true_digit: int
    predicted_digit: int
    confidence: float  # the probability given to the predicted (wrong) digit


@dataclass(frozen=True)
class Evaluation:
    loss: float
    accuracy: float
    count: int
    confusion: np.ndarray  # confusion[true, predicted] = count
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    mistakes: tuple[Mistake, ...]  # most confident first
    probabilities: np.ndarray  # (N, 10), or (N, 11) for a model with a "not a digit" output

    @property
    def wrong(self) -> int:
        return len(self.mistakes)

    def summary(self) -> dict[str, Any]:
        """The figures that go into a saved run record."""
        return {"loss": self.loss, "accuracy": self.accuracy, "count": self.count, "wrong": self.wrong}

    def mistakes_for(self, true_digit: int | None = None, predicted_digit: int | None = None) -> list[Mistake]:
        """Mistakes filtered to one cell, row or column of the confusion matrix, most confident first."""
        return [
            mistake
            for mistake in self.mistakes
            if (true_digit is None or mistake.true_digit == true_digit)
            and (predicted_digit is None or mistake.predicted_digit == predicted_digit)
        ]

    def confused_pairs(self, limit: int = 5) -> list[tuple[int, int, int]]:
        """(true, predicted, count) for the most frequent mistakes, most frequent first."""
        off_diagonal = self.confusion.copy()
        np.fill_diagonal(off_diagonal, 0)
        order = np.argsort(-off_diagonal, axis=None, kind="stable")[:limit]
        pairs = [(int(i // NUM_CLASSES), int(i % NUM_CLASSES)) for i in order]
        return [(t, p, int(off_diagonal[t, p])) for t, p in pairs if off_diagonal[t, p] > 0]


def confusion_matrix(true: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """10x10 counts; row = true digit, column = predicted digit."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(matrix, (true.astype(np.int64), predicted.astype(np.int64)), 1)
    return matrix


def per_class_scores(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 per digit; 0 where a digit was never predicted or never present."""
    hits = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return precision, recall, f1


def evaluation_from_probabilities(probabilities: np.ndarray, labels: np.ndarray) -> Evaluation:
    """Every figure of an Evaluation from (N, 10) probabilities and the N true labels.

    A model with an 11th "not a digit" output gives (N, 11): the figures are then on its digit outputs
    (the digit it would read), and ``probabilities`` keeps all 11 so rejections can be counted apart."""
    all_outputs = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    if all_outputs.ndim != 2 or all_outputs.shape[0] != len(labels) or len(labels) == 0 \
            or all_outputs.shape[1] not in (NUM_CLASSES, NUM_CLASSES + 1):
        raise ValueError(f"expected (N, 10) or (N, 11) probabilities for N > 0 labels; got {all_outputs.shape}")
    probabilities = all_outputs[:, :NUM_CLASSES]
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    true_probability = np.clip(probabilities[np.arange(len(labels)), labels], _EPSILON, 1 - _EPSILON)
    confusion = confusion_matrix(labels, predicted)
    precision, recall, f1 = per_class_scores(confusion)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")]
    mistakes = tuple(
        Mistake(int(i), int(labels[i]), int(predicted[i]), float(confidence[i])) for i in wrong
    )
    return Evaluation(
        loss=float(-np.log(true_probability).mean()),
        accuracy=float((predicted == labels).mean()),
        count=len(labels),
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        mistakes=mistakes,
        probabilities=all_outputs.astype(np.float32),
    )


def predict_probabilities(model: keras.Model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """(N, 10) (or (N, 11)) probabilities for uint8 or 0..1 float (N, 28, 28) images, in large batches."""
    x = normalise(images) if images.dtype == np.uint8 else np.asarray(images, dtype=np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> Evaluation:
    return evaluation_from_probabilities(predict_probabilities(model, images), labels)
