"""What a trained model has learned, as arrays to draw: read from its weights, or from its layers at work.

For a network of dense layers (the MLP): the input pattern that votes for each digit, and each
first-layer unit's weights over the 28x28 input. For a convolutional network: the first layer's
filters, and the feature maps every convolutional layer makes of one digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from digits.data import IMAGE_SIZE, NUM_CLASSES, normalise

if TYPE_CHECKING:
    import keras

Family = Literal["mlp", "cnn"]
RARE_INK_SHARE = 0.01  # a pixel inked in fewer than 1 in 100 training digits teaches its weights almost nothing


def _layers(model: keras.Model, kind: type) -> list[keras.layers.Layer]:
    return [layer for layer in model.layers if isinstance(layer, kind)]


def family(model: keras.Model) -> Family:
    """"cnn" when the model has a convolutional layer, else "mlp" (dense layers on the pixels)."""
    import keras

    return "cnn" if _layers(model, keras.layers.Conv2D) else "mlp"


def digit_patterns(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(10, 28, 28): for each digit, how much ink on each pixel adds to its score (positive) or takes from it.

    Read from the weights of the dense layers: the last layer's weights for the digit, passed back through
    each hidden layer's weights, each unit counted by the share of that digit's ``images`` that switch it on
    (a ReLU unit that is off passes nothing on). Without that, units that never fire for a digit blur the
    picture into noise."""
    if family(model) != "mlp":
        raise ValueError("digit patterns are read from dense layers on the pixels; this model is convolutional")
    import keras

    *hidden, last = _layers(model, keras.layers.Dense)
    labels = np.asarray(labels)
    activity = normalise(np.asarray(images)).reshape(len(labels), -1).astype(np.float64)
    switched_on = []
    for layer in hidden:
        activity = activity @ np.asarray(layer.kernel) + np.asarray(layer.bias)
        switched_on.append(activity > 0)
        activity = np.maximum(activity, 0)
    patterns = []
    for digit in range(NUM_CLASSES):
        vote = np.asarray(last.kernel, dtype=np.float64)[:, digit]
        for layer, on in zip(reversed(hidden), reversed(switched_on), strict=True):
            share_on = on[labels == digit].mean(axis=0) if np.any(labels == digit) else np.zeros(on.shape[1])
            vote = np.asarray(layer.kernel, dtype=np.float64) @ (share_on * vote)
        patterns.append(vote.reshape(IMAGE_SIZE, IMAGE_SIZE))
    return np.stack(patterns)


def inked_pixels(images: np.ndarray, share: float = RARE_INK_SHARE) -> np.ndarray:
    """(28, 28) bool: the pixels that at least ``share`` of ``images`` put ink on.

    A dense layer's weights on the other pixels hardly move from their random start in training, and
    hardly matter: drawn, they bury what was learned in noise."""
    return (np.asarray(images) > 0).mean(axis=0) >= share


def first_layer_units(model: keras.Model) -> np.ndarray:
    """(units, 28, 28): each first-layer unit's weights over the input pixels (the MLP)."""
    if family(model) != "mlp":
        raise ValueError("first-layer units over the pixels belong to dense networks; this model is convolutional")
    import keras

    kernel = np.asarray(_layers(model, keras.layers.Dense)[0].kernel)
    return kernel.T.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


def first_layer_filters(model: keras.Model) -> np.ndarray:
    """(filters, height, width): the first convolution's small stencils (of a one-channel input)."""
    if family(model) != "cnn":
        raise ValueError("filters belong to convolutional networks; this model has dense layers only")
    import keras

    kernel = np.asarray(_layers(model, keras.layers.Conv2D)[0].kernel)  # (height, width, 1, filters)
    return np.moveaxis(kernel[:, :, 0, :], -1, 0)


@dataclass(frozen=True)
class FeatureMaps:
    layer: str  # the layer's name in the model
    maps: np.ndarray  # (channels, height, width), after the layer's activation


def feature_maps(model: keras.Model, image: np.ndarray) -> list[FeatureMaps]:
    """What each convolutional layer makes of one 28x28 image (uint8, or floats in 0..1), first layer first."""
    import keras

    convolutions = _layers(model, keras.layers.Conv2D)
    if not convolutions:
        raise ValueError("feature maps belong to convolutional networks; this model has dense layers only")
    image = np.asarray(image)
    x = normalise(image) if image.dtype == np.uint8 else image.astype(np.float32)
    probe = keras.Model(model.inputs[0], [layer.output for layer in convolutions])
    outputs = probe(x.reshape(1, IMAGE_SIZE, IMAGE_SIZE), training=False)
    if not isinstance(outputs, list | tuple):  # Keras gives a model with one output its tensor alone
        outputs = [outputs]
    return [FeatureMaps(layer.name, np.moveaxis(np.asarray(output)[0], -1, 0))
            for layer, output in zip(convolutions, outputs, strict=True)]
