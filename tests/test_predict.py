from __future__ import annotations

import numpy as np
import pytest

from digits.data import Mnist
from digits.models import default_hyperparameters
from digits.predict import make_predictor, read_digits, to_predictions
from digits.training import train


@pytest.fixture(scope="module")
def predictor(sample: Mnist):
    return make_predictor(train(default_hyperparameters("mlp", epochs=5), sample).model)


def test_compiled_predictor_matches_the_model_and_takes_uint8_or_floats(predictor, sample: Mnist) -> None:
    as_uint8 = predictor(sample.x_test[:20])
    as_float = predictor(sample.x_test[:20] / 255.0)
    np.testing.assert_allclose(as_uint8, as_float, rtol=1e-5)
    assert as_uint8.shape == (20, 10)
    np.testing.assert_allclose(as_uint8.sum(axis=1), 1.0, rtol=1e-5)
    assert predictor(sample.x_test[0]).shape == (1, 10)  # one image without a batch axis
    with pytest.raises(ValueError, match="28x28"):
        predictor(np.zeros((1, 20, 20)))


def test_reading_several_digits_and_none(predictor, sample: Mnist) -> None:
    assert read_digits(predictor, []) is None
    reading = read_digits(predictor, [sample.x_test[0], sample.x_test[1]])
    assert reading is not None and len(reading.text) == 2
    first, second = reading.predictions
    assert reading.confidence == pytest.approx(first.confidence * second.confidence)
    assert to_predictions(np.eye(10)[[3]])[0].digit == 3
