"""Training-time augmentation: the variations people bring when they draw, applied on the fly.

Kept in the input pipeline rather than in the model, so saved models stay plain layers that
load in safe mode and run at full speed for prediction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

# How far each variation goes. MNIST digits are already centred by centre of mass in a 20x20 box,
# and so are drawings after preprocessing, so the ranges stay modest: they cover hands, not framing.
ROTATION_DEGREES = 12.0
ZOOM = 0.12
SHIFT_PIXELS = 2.0
MAX_THICKENING = 1.0  # a full 3x3 dilation
MAX_THINNING = 0.5  # half of a 3x3 erosion; more would erase thin MNIST strokes


def vary_stroke_thickness(images: tf.Tensor, amount: tf.Tensor) -> tf.Tensor:
    """Thicken (amount > 0) or thin (amount < 0) strokes of a (batch, 28, 28, 1) float batch."""
    import tensorflow as tf

    thick = tf.nn.max_pool2d(images, 3, 1, "SAME")
    thin = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    amount = tf.reshape(amount, (-1, 1, 1, 1))
    return images + tf.nn.relu(amount) * (thick - images) + tf.nn.relu(-amount) * (thin - images)


def augmented_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> tf.data.Dataset:
    """Shuffled batches of (28, 28) float images with random rotation, zoom, shift and stroke width."""
    import keras
    import tensorflow as tf

    geometry = keras.Sequential(
        [
            keras.layers.RandomRotation(ROTATION_DEGREES / 360.0, fill_mode="constant", seed=seed),
            keras.layers.RandomZoom(ZOOM, fill_mode="constant", seed=seed + 1),
            keras.layers.RandomTranslation(
                SHIFT_PIXELS / 28, SHIFT_PIXELS / 28, fill_mode="constant", seed=seed + 2
            ),
        ]
    )
    def vary(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = geometry(images[..., tf.newaxis], training=True)
        amount = tf.random.uniform((tf.shape(batch)[0],), -MAX_THINNING, MAX_THICKENING, seed=seed + 3)
        batch = vary_stroke_thickness(batch, amount)
        return tf.clip_by_value(batch[..., 0], 0.0, 1.0), labels

    return (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .map(vary, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
