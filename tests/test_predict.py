from __future__ import annotations

import numpy as np
import pytest

from digits.data import Mnist
from digits.models import default_hyperparameters
from digits.predict import LOOK_TURN_DEGREES, LOOKS, READ_BATCH, looks, make_predictor, read_digits, to_predictions
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


def _looks_of(image: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    return looks(tf.constant(image[np.newaxis], tf.float32)).numpy()


def test_the_five_looks_of_one_ink_pixel() -> None:
    image = np.zeros((28, 28), np.float32)
    image[10, 12] = 1.0
    as_drawn, thicker, thinner, turned, turned_back = _looks_of(image)
    np.testing.assert_array_equal(as_drawn, image)
    # Thicker: half way to the 3x3 maximum, so the pixel stays and its eight neighbours get half.
    expected = np.zeros((28, 28), np.float32)
    expected[9:12, 11:14] = 0.5
    expected[10, 12] = 1.0
    np.testing.assert_allclose(thicker, expected)
    # Thinner: half way to the 3x3 minimum, which a lone pixel does not survive.
    expected = np.zeros((28, 28), np.float32)
    expected[10, 12] = 0.5
    np.testing.assert_allclose(thinner, expected)
    # Turned: the ink keeps its amount and its distance from the centre, and goes round it by the angle,
    # one way and the other.
    centre = (28 - 1) / 2
    angles = []
    for look in (turned, turned_back):
        assert look.sum() == pytest.approx(1.0, abs=0.02)
        rows, columns = np.indices(look.shape)
        row, column = (rows * look).sum() / look.sum(), (columns * look).sum() / look.sum()
        assert np.hypot(row - centre, column - centre) == pytest.approx(np.hypot(10 - centre, 12 - centre), abs=0.1)
        angles.append(np.degrees(np.arctan2(row - centre, column - centre) - np.arctan2(10 - centre, 12 - centre)))
    assert sorted(angles) == pytest.approx([-LOOK_TURN_DEGREES, LOOK_TURN_DEGREES], abs=1.0)


def test_the_turns_mirror_each_other() -> None:
    image = np.zeros((28, 28), np.float32)
    image[13:15, 4:24] = 1.0  # a horizontal bar through the centre
    image[6:9, 6:9] = 1.0  # and a blob: the image is not symmetric
    _, _, _, turned, turned_back = _looks_of(image)
    flipped = _looks_of(image[::-1].copy())
    # Turning one way equals flipping, turning the other way and flipping back.
    np.testing.assert_allclose(turned, flipped[4][::-1], atol=1e-5)
    np.testing.assert_allclose(turned_back, flipped[3][::-1], atol=1e-5)


def test_a_reading_is_the_normalised_geometric_mean_of_the_looks() -> None:
    import keras

    # A tiny model whose answer is known: its two outputs' logits are the ink in the top and bottom halves.
    weights = np.zeros((28 * 28, 2), np.float32)
    weights[: 14 * 28, 0] = weights[14 * 28:, 1] = 0.05
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    model.layers[-1].set_weights([weights, np.zeros(2, np.float32)])
    rng = np.random.default_rng(0)
    images = (rng.random((READ_BATCH + 3, 28, 28)) < 0.2).astype(np.uint8) * 255  # more than one batch
    every_look = _looks_of(images[0] / 255.0)
    ink = every_look.reshape(LOOKS, 2, -1).sum(axis=2) * 0.05  # per look: the two logits
    logs = ink - np.log(np.exp(ink).sum(axis=1, keepdims=True))
    expected = np.exp(logs.mean(axis=0))
    expected /= expected.sum()
    read = make_predictor(model)(images)
    assert read.shape == (READ_BATCH + 3, 2)
    np.testing.assert_allclose(read[0], expected, rtol=1e-4)
    np.testing.assert_allclose(read[-1], make_predictor(model)(images[-1])[0], rtol=1e-5)  # batches change nothing
