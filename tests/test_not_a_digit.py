"""The three outcomes of a reading (digits, not a digit, no ink), with tiny hand-built models of known answers."""

from __future__ import annotations

import numpy as np
import pytest

from digits.predict import (
    NOT_A_DIGIT,
    OUTPUT_THRESHOLD,
    Decision,
    Outcome,
    calibrate_threshold,
    digit_scores,
    make_predictor,
    model_decision,
    outcome_of,
    read_digits,
    to_predictions,
)

SIZE = 28
GAIN = 0.05  # per inked pixel: a 14x28 half of white ink gives a logit of about 20


def half_inked(top: bool) -> np.ndarray:
    """A 28x28 uint8 image with ink in its top or its bottom half only."""
    image = np.zeros((SIZE, SIZE), np.uint8)
    image[slice(0, SIZE // 2) if top else slice(SIZE // 2, SIZE)] = 255
    return image


def hand_built(outputs: int):
    """Flatten -> Dense(outputs, softmax): ink in the top half says 3; ink in the bottom half says "not a digit"
    (with 11 outputs) or spreads evenly over 5..9 (with 10, so no digit is likely)."""
    import keras

    weights = np.zeros((SIZE * SIZE, outputs), np.float32)
    top = np.zeros((SIZE, SIZE), bool)
    top[: SIZE // 2] = True
    weights[top.ravel(), 3] = GAIN
    if outputs > NOT_A_DIGIT:
        weights[~top.ravel(), NOT_A_DIGIT] = GAIN
    else:
        weights[np.ix_(~top.ravel(), [5, 6, 7, 8, 9])] = GAIN
    layer = keras.layers.Dense(outputs, activation="softmax")
    model = keras.Sequential([keras.Input((SIZE, SIZE)), keras.layers.Flatten(), layer])
    layer.set_weights([weights, np.zeros(outputs, np.float32)])
    return model


@pytest.fixture(scope="module")
def eleven():
    return hand_built(NOT_A_DIGIT + 1)


@pytest.fixture(scope="module")
def ten():
    return hand_built(NOT_A_DIGIT)


def test_an_eleventh_output_decides_digit_or_not(eleven) -> None:
    predictor = make_predictor(eleven)
    decision = model_decision(eleven)
    assert decision == Decision("output", OUTPUT_THRESHOLD)
    digit = read_digits(predictor, [half_inked(top=True)], decision)
    assert digit is not None and digit.outcome is Outcome.DIGIT
    assert digit.text == digit.number == "3" and digit.predictions[0].is_digit
    other = read_digits(predictor, [half_inked(top=False)], decision)
    assert other is not None and other.outcome is Outcome.NOT_A_DIGIT
    assert other.text == "?" and other.number is None
    part = other.predictions[0]
    assert not part.is_digit and part.digit_score < 0.01
    assert sum(part.probabilities) == pytest.approx(1.0) and len(part.probabilities) == 10  # bars over 0..9


def test_a_number_with_one_part_that_is_not_a_digit_is_not_a_number(eleven) -> None:
    images = [half_inked(top=True), half_inked(top=False), half_inked(top=True)]
    reading = read_digits(make_predictor(eleven), images)  # the decision defaults to the model's own output
    assert reading is not None
    assert reading.text == "3?3" and reading.number is None and reading.outcome is Outcome.NOT_A_DIGIT
    assert reading.closest[0] == reading.closest[2] == "3" and len(reading.closest) == 3
    assert [p.is_digit for p in reading.predictions] == [True, False, True]
    number = read_digits(make_predictor(eleven), [half_inked(top=True)] * 2)
    assert number is not None and number.number == "33" and number.outcome is Outcome.DIGIT


def test_no_ink_is_its_own_outcome(eleven) -> None:
    assert read_digits(make_predictor(eleven), []) is None
    assert outcome_of(None) is Outcome.NO_INK


def test_a_ten_output_model_decides_by_its_calibrated_threshold(ten) -> None:
    predictor = make_predictor(ten)
    unsure = predictor(half_inked(top=False))
    assert unsure.shape == (1, 10) and unsure.max() < 0.25  # spread over 5..9
    never = model_decision(ten)  # nothing saved: a model from before never rejects
    assert never == Decision("threshold", 0.0)
    assert read_digits(predictor, [half_inked(top=False)], never).outcome is Outcome.DIGIT
    saved = model_decision(ten, {"method": "threshold", "threshold": 0.9})
    assert saved.threshold == 0.9
    assert read_digits(predictor, [half_inked(top=False)], saved).outcome is Outcome.NOT_A_DIGIT
    assert read_digits(predictor, [half_inked(top=True)], saved).text == "3"


def test_a_saved_decision_of_the_other_kind_is_ignored() -> None:
    # A threshold calibrated for max probability means nothing for an 11th output, and the other way round.
    assert Decision.for_model(11, {"method": "threshold", "threshold": 0.97}) == Decision("output", OUTPUT_THRESHOLD)
    assert Decision.for_model(10, {"method": "output", "threshold": 0.5}) == Decision("threshold", 0.0)
    assert Decision.for_model(10, {"method": "threshold", "threshold": "high"}) == Decision("threshold", 0.0)


def test_calibration_lets_99_percent_of_the_validation_digits_pass() -> None:
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.full(10, 0.3), size=1000)
    decision = calibrate_threshold(probabilities)
    passing = (digit_scores(probabilities) >= decision.threshold).mean()
    assert decision.method == "threshold" and 0.99 <= passing <= 0.992
    assert calibrate_threshold(np.hstack([probabilities, np.zeros((1000, 1))])) == Decision("output", 0.5)


def test_predictions_from_eleven_outputs_show_the_closest_digit() -> None:
    row = np.array([[0.05, 0.0, 0.0, 0.0, 0.15, 0.0, 0.0, 0.0, 0.0, 0.0, 0.8]])
    (prediction,) = to_predictions(row)
    assert prediction.digit == 4 and not prediction.is_digit and prediction.text == "?"
    assert prediction.confidence == pytest.approx(0.75) and prediction.digit_score == pytest.approx(0.2)
    assert prediction.to_dict()["is_digit"] is False
    (plain,) = to_predictions(np.eye(10)[[7]])
    assert plain.digit == 7 and plain.is_digit and plain.text == "7"
