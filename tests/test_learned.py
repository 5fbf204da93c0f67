"""What a model has learned, read from hand-built models whose weights are known, and the images drawn of it."""

from __future__ import annotations

import numpy as np
import pytest

from digits.charts import diverging_image, gallery_tile, image_gallery, image_grid, robust_limit, saliency_overlay
from digits.learned import digit_patterns, family, feature_maps, first_layer_filters, first_layer_units, inked_pixels


def hand_built_mlp(outputs: int = 10):
    """Two hidden units: unit 0 looks at the top half of the image, unit 1 at the bottom half. Digit 3 is voted
    for by unit 0, digit 8 by unit 1 (and against by unit 0); every other weight is 0."""
    import keras

    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(2, activation="relu"),
                              keras.layers.Dense(outputs, activation="softmax")])
    hidden = np.zeros((28, 28, 2), dtype=np.float32)
    hidden[:14, :, 0] = 1.0
    hidden[14:, :, 1] = 1.0
    votes = np.zeros((2, outputs), dtype=np.float32)
    votes[0, 3], votes[1, 8], votes[0, 8] = 2.0, 1.0, -1.0
    model.layers[1].set_weights([hidden.reshape(784, 2), np.zeros(2, dtype=np.float32)])
    model.layers[2].set_weights([votes, np.zeros(outputs, dtype=np.float32)])
    return model


def hand_built_cnn():
    """One 3x3 filter that finds the top edge of a stroke (+1 under it, -1 above it), then a dense layer."""
    import keras

    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1)),
                              keras.layers.Conv2D(1, 3, padding="same", activation="relu", use_bias=False),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    edge = np.zeros((3, 3, 1, 1), dtype=np.float32)
    edge[0, :, 0, 0], edge[2, :, 0, 0] = -1.0, 1.0
    model.layers[1].set_weights([edge])
    return model


def test_an_mlps_patterns_follow_its_weights_through_the_units_a_digit_switches_on() -> None:
    model = hand_built_mlp()
    assert family(model) == "mlp"
    top, bottom = np.zeros((28, 28), np.uint8), np.zeros((28, 28), np.uint8)
    top[5, 5], bottom[20, 5] = 255, 255
    # Threes ink only the top (unit 0 on), eights only the bottom (unit 1 on).
    patterns = digit_patterns(model, np.stack([top, top, bottom]), np.array([3, 3, 8]))
    assert patterns.shape == (10, 28, 28)
    np.testing.assert_allclose(patterns[3, :14], 2.0)
    np.testing.assert_allclose(patterns[3, 14:], 0.0)
    np.testing.assert_allclose(patterns[8, :14], 0.0)  # unit 0 is off for eights: its vote against 8 does not count
    np.testing.assert_allclose(patterns[8, 14:], 1.0)
    np.testing.assert_allclose(patterns[[0, 1, 2, 4, 5, 6, 7, 9]], 0.0)
    units = first_layer_units(model)
    assert units.shape == (2, 28, 28) and units[0, :14].min() == 1 and units[0, 14:].max() == 0
    # An 11th "not a digit" output is left out.
    assert digit_patterns(hand_built_mlp(11), np.stack([top]), np.array([3])).shape == (10, 28, 28)


def test_a_cnns_filters_and_feature_maps() -> None:
    model = hand_built_cnn()
    assert family(model) == "cnn"
    filters = first_layer_filters(model)
    assert filters.shape == (1, 3, 3) and filters[0, 2, 1] == 1 and filters[0, 0, 1] == -1
    bar = np.zeros((28, 28), np.uint8)
    bar[10:13, 5:20] = 255
    (layer,) = feature_maps(model, bar)
    assert layer.maps.shape == (1, 28, 28)
    found = layer.maps[0]
    assert found[9, 10] > 0  # just above the bar: ink below, none above
    assert found[13, 10] == 0  # just below it, the filter sees the opposite: switched off by the ReLU
    with pytest.raises(ValueError, match="convolutional"):
        digit_patterns(model, bar[None], np.array([1]))
    with pytest.raises(ValueError, match="convolutional"):
        first_layer_units(model)
    with pytest.raises(ValueError, match="dense layers only"):
        first_layer_filters(hand_built_mlp())


def test_inked_pixels_are_those_enough_digits_use() -> None:
    images = np.zeros((200, 28, 28), np.uint8)
    images[:, 14, 14] = 255  # every digit
    images[:3, 0, 0] = 255  # 1.5% of them
    images[:1, 27, 27] = 255  # 0.5%
    mask = inked_pixels(images)
    assert mask[14, 14] and mask[0, 0] and not mask[27, 27] and mask.sum() == 2


def test_saliency_overlay_shows_ink_in_grey_and_the_push_in_colour() -> None:
    image = np.zeros((28, 28), np.uint8)
    image[5:10, 5:10] = 255
    saliency = np.zeros((28, 28))
    saliency[5, 5] = 1.0
    overlay = saliency_overlay(image, saliency)
    assert overlay.shape == (28, 28, 3) and overlay.dtype == np.uint8
    assert tuple(overlay[5, 5]) == (255, 255, 89)  # the strongest push: yellow
    assert overlay[7, 7, 0] == overlay[7, 7, 1] == overlay[7, 7, 2] > 0  # other ink: grey
    assert not overlay[20, 20].any()  # no ink: black
    assert not saliency_overlay(np.zeros((28, 28), np.uint8), np.zeros((28, 28))).any()


def test_weights_as_colours_and_grids() -> None:
    colours = diverging_image(np.array([[-2.0, 0.0, 2.0, 5.0]]), limit=2.0)
    assert colours[0, 0, 2] > colours[0, 0, 0]  # negative: blue
    assert colours[0, 1].min() > 240  # zero: white
    assert colours[0, 2, 0] > colours[0, 2, 2] and (colours[0, 3] == colours[0, 2]).all()  # positive: red, clipped
    assert robust_limit(np.concatenate([np.ones(999), [1000.0]])) == pytest.approx(1.0, abs=0.01)
    tiles = [np.full((2, 3, 3), value, np.uint8) for value in (10, 20, 30)]
    grid = image_grid(tiles, columns=2, scale=2, gap=1)
    assert grid.shape == (2 * 4 + 1, 2 * 6 + 1, 3)
    assert grid[0, 0, 0] == 10 and grid[0, 7, 0] == 20 and grid[5, 0, 0] == 30 and grid[5, 7, 0] == 255


def test_a_click_on_the_gallery_finds_the_image_under_it() -> None:
    images = [np.full((28, 28), i * 20, np.uint8) for i in range(8)]
    figure = image_gallery(images, [f"image {i}" for i in range(8)], columns=3, selected=4)
    markers = figure.data[1]  # the invisible markers that take clicks, one at each image's centre
    for position, (x, y) in enumerate(zip(markers.x, markers.y, strict=True)):
        assert gallery_tile(x, y, columns=3, count=8) == position
        assert gallery_tile(x - 13, y + 13, columns=3, count=8) == position  # a corner of the image
    assert gallery_tile(markers.x[0] + 16, markers.y[0], columns=3, count=8) is None  # the gap between images
    assert gallery_tile(markers.x[2], markers.y[2] + 38 * 2, columns=3, count=8) is None  # past the last image
    assert len(figure.layout.shapes) == 1  # the selected image is outlined
