"""Saliency against oracles: hand-built models whose answer depends on known pixels only."""

from __future__ import annotations

import numpy as np
import pytest

from digits.data import Mnist
from digits.explain import blank_top_ink, deletion_drops, make_saliency, ranked_digits
from digits.models import default_hyperparameters
from digits.predict import make_predictor
from digits.training import train

THREE_PIXELS = (slice(4, 8), slice(10, 18))  # the only pixels that vote for 3
SEVEN_PIXELS = (slice(20, 24), slice(10, 18))  # the only pixels that vote for 7
IDLE_PIXELS = (slice(12, 16), slice(2, 26))  # ink that no output looks at
VOTE = 0.25  # logit added per unit of ink on a voting pixel


def oracle_model(outputs: int = 10, convolution: bool = False):
    """Softmax over logits that count the ink on THREE_PIXELS (for 3) and SEVEN_PIXELS (for 7); every other
    logit is 0 and every other pixel is ignored. With ``convolution``, a 1x1 convolution that doubles the
    image comes first (its vote halved to match), so the gradients flow through a convolutional layer."""
    import keras

    weights = np.zeros((28, 28, outputs), dtype=np.float32)
    weights[(*THREE_PIXELS, 3)] = VOTE
    weights[(*SEVEN_PIXELS, 7)] = VOTE
    body = [keras.layers.Flatten()]
    if convolution:
        body = [keras.layers.Reshape((28, 28, 1)), keras.layers.Conv2D(1, 1, use_bias=False), *body]
        weights /= 2
    model = keras.Sequential([keras.Input((28, 28)), *body, keras.layers.Dense(outputs, activation="softmax")])
    if convolution:
        model.layers[1].set_weights([np.full((1, 1, 1, 1), 2.0, dtype=np.float32)])
    model.layers[-1].set_weights([weights.reshape(28 * 28, outputs), np.zeros(outputs, dtype=np.float32)])
    return model


def inked(*regions: tuple[slice, slice]) -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.uint8)
    for region in regions:
        image[region] = 255
    return image


@pytest.mark.parametrize(("outputs", "convolution"), [(10, False), (11, False), (10, True)])
def test_only_the_pixels_the_answer_depends_on_get_weight(outputs: int, convolution: bool) -> None:
    model = oracle_model(outputs, convolution)
    image = inked(THREE_PIXELS, SEVEN_PIXELS, IDLE_PIXELS)
    saliency = make_saliency(model)
    toward_three, toward_seven = saliency(np.stack([image, image]), np.array([3, 7]))
    assert toward_three.min() >= 0 and toward_seven.min() >= 0
    assert toward_three[THREE_PIXELS].min() > 0 and toward_seven[SEVEN_PIXELS].min() > 0
    # Ink that votes for 7 pushes away from 3 (and the reverse); idle ink and blank pixels push nowhere.
    for map_, voting in ((toward_three, THREE_PIXELS), (toward_seven, SEVEN_PIXELS)):
        rest = np.ones((28, 28), dtype=bool)
        rest[voting] = False
        assert np.abs(map_[rest]).max() < 1e-6
    # Completeness: the credits add up to the rise of the probability from a black image to the drawing.
    probabilities = model(np.stack([image, np.zeros_like(image)]).astype(np.float32) / 255).numpy()
    only_three = inked(THREE_PIXELS, IDLE_PIXELS)
    three_alone = saliency(only_three, np.array([3]))[0]
    rise = model(only_three[None].astype(np.float32) / 255).numpy()[0, 3] - probabilities[1, 3]
    assert three_alone.sum() == pytest.approx(rise, rel=0.01)


def test_saliency_refuses_what_it_cannot_explain() -> None:
    saliency = make_saliency(oracle_model(11))
    with pytest.raises(ValueError, match=r"0\.\.9"):
        saliency(inked(THREE_PIXELS), np.array([10]))  # "not a digit" is no digit to explain
    with pytest.raises(ValueError, match="28x28"):
        saliency(np.zeros((1, 20, 20)), np.array([3]))
    with pytest.raises(ValueError, match="one digit per image"):
        saliency(np.zeros((2, 28, 28)), np.array([3]))


def test_digits_are_ranked_without_the_not_a_digit_output() -> None:
    assert ranked_digits([0.1, 0.6, 0.0, 0.3, 0, 0, 0, 0, 0, 0])[:3] == [1, 3, 0]
    assert ranked_digits([0.05, 0.1, 0, 0.2, 0, 0, 0, 0, 0, 0, 0.65])[:2] == [3, 1]
    assert len(ranked_digits([0.05, 0.1, 0, 0.2, 0, 0, 0, 0, 0, 0, 0.65])) == 10


def test_blank_top_ink_blanks_that_share_of_the_ink_only() -> None:
    image = inked((slice(0, 10), slice(0, 10)))  # 100 ink pixels
    scores = np.zeros((28, 28))
    scores[9, :] = 1.0  # the bottom row of the ink ranks highest (and blank pixels are never counted)
    scores[20:, 20:] = 5.0
    blanked = blank_top_ink(image[None], scores[None], share=0.15)[0]
    assert (image > 0).sum() - (blanked > 0).sum() == 15
    assert not blanked[9, :10].any()
    assert image[9, :10].all()  # the input is not changed


def test_deletion_test_tells_a_faithful_map_from_an_ink_copy() -> None:
    model = oracle_model()
    predictor = make_predictor(model)
    rng = np.random.default_rng(0)
    # Drawings with as much idle ink as voting ink, at varied brightness.
    images = np.stack([inked(THREE_PIXELS, IDLE_PIXELS) for _ in range(8)])
    images = (images * rng.uniform(0.5, 1.0, images.shape)).astype(np.uint8)
    faithful = deletion_drops(predictor, images, make_saliency(model)(images, np.full(8, 3)))
    ink_copy = deletion_drops(predictor, images, images.astype(float))
    assert faithful.versus_random > 2 and faithful.versus_brightest > 1.5
    assert ink_copy.versus_brightest == pytest.approx(1.0, abs=0.05)


def test_integrated_gradients_is_faithful_on_a_trained_mlp(sample: Mnist) -> None:
    model = train(default_hyperparameters("mlp", epochs=3, batch_size=64), sample).model
    images = sample.x_test[:200]
    answers = make_predictor(model)(images).argmax(axis=1)
    drops = deletion_drops(make_predictor(model), images, make_saliency(model)(images, answers))
    assert drops.versus_random > 4 and drops.versus_brightest > 2
