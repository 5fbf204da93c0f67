"""Typed, validated hyperparameters and the model builders they drive."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from digits.compute import ComputeDtype, machine_compute_dtype
from digits.data import IMAGE_SIZE, NUM_CLASSES

if TYPE_CHECKING:
    import keras

ModelKind = Literal["mlp", "cnn", "deep"]
MODEL_KINDS: tuple[ModelKind, ...] = ("mlp", "cnn", "deep")
MODEL_DESCRIPTIONS = {
    "mlp": "Simple network (the classic beginner's model): one hidden layer of neurons",
    "cnn": "Convolutional network: looks for strokes and shapes; slower to train, more accurate",
    "deep": "Deeper convolutional network: the most accurate, several times slower to train",
}


class InvalidSetting(ValueError):
    """A hyperparameter outside its allowed range; the message names the setting and the range."""


# Allowed ranges: (low, high), inclusive. The pages' widgets stay inside these; the library refuses the rest.
LIMITS: dict[str, tuple[float, float]] = {
    "epochs": (1, 100),
    "batch_size": (1, 4096),
    "learning_rate": (1e-6, 1.0),
    "hidden_units": (1, 4096),
    "dropout": (0.0, 0.9),
    "validation_split": (0.0, 0.5),
    "seed": (0, 2**31 - 1),
}


@dataclass(frozen=True)
class Hyperparameters:
    """Everything that decides a training run. Invalid values raise InvalidSetting on construction."""

    model: ModelKind = "mlp"
    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 0.001
    hidden_units: int = 128
    dropout: float = 0.0
    augment: bool = False
    validation_split: float = 0.1
    seed: int = 0
    # Learn what is not a digit: an 11th output, trained on doodles too (digits/non_digits.py).
    not_a_digit: bool = False

    def __post_init__(self) -> None:
        if self.model not in MODEL_KINDS:
            raise InvalidSetting(f"model must be one of {', '.join(MODEL_KINDS)}; got {self.model!r}.")
        for name in ("augment", "not_a_digit"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidSetting(f"{name} must be true or false; got {getattr(self, name)!r}.")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            is_int_setting = isinstance(low, int) and isinstance(high, int)
            if isinstance(value, bool) or not isinstance(value, int if is_int_setting else (int, float)):
                kind = "a whole number" if is_int_setting else "a number"
                raise InvalidSetting(f"{name} must be {kind} from {low} to {high}; got {value!r}.")
            if not (math.isfinite(value) and low <= value <= high):
                raise InvalidSetting(f"{name} must be from {low} to {high}; got {value!r}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Hyperparameters:
        """Build from a saved record, ignoring keys this version does not know."""
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


# Filters of the first convolution and of the wider one(s) after it (14x14). The CNN's 16 and 32 are a
# quarter of the multiply-adds of 32 and 64. Measured in float32 on 2 cores (training time; test accuracy for
# seeds 0, 1, 2): 32 and 64, 2 epochs of 128 from 0.003 (the old defaults): 32 s, 0.9913. 16 and 32, the same:
# 11 s, 0.9899; from 0.005: 0.9912 / 0.9903 / 0.9898, too close to 0.990; 3 epochs of 128 from 0.005: 15-16.5
# s, 0.9918 / 0.9910 / 0.9919; 3 epochs of 256 from 0.01 (the defaults): 11-15 s, 0.9913 / 0.9919 / 0.9912.
CONVOLUTION_FILTERS = {"cnn": (16, 32), "deep": (32, 64)}


@dataclass(frozen=True)
class FirstConvolution:
    stencil: int  # pixels on a side
    stride: int  # 2: it steps two pixels at a time, straight to 14x14; 1: every pixel, then a 2x2 pooling


# The CNN's first convolution strides: no 28x28x16 maps to compute, pool and keep for the backward pass, whose
# memory traffic, more than its arithmetic, set an epoch's time on a CPU. A 4x4 stencil, so that the strided
# steps still overlap. Measured in float32 on 2 cores, 3 epochs of 256 from 0.01 (training time; test accuracy),
# the same run each: 3x3 then pooling 22.0 / 23.8 / 17.0 / 16.8 s, 0.9913 / 0.9919 / 0.9912 / 0.9912 (seeds 0-3);
# 4x4 strided 14.2 / 13.1 / 13.3 / 15.2 s, 0.9927 / 0.9914 / 0.9922 / 0.9915 (and seed 4: 0.9918); 3x3 strided
# 14.7 / 15.7 s, 0.9904 / 0.9908; 5x5 strided with 24 filters 16.9 / 16.3 s, 0.9916 / 0.9908.
FIRST_CONVOLUTION = {"cnn": FirstConvolution(stencil=4, stride=2), "deep": FirstConvolution(stencil=3, stride=1)}


def default_hyperparameters(model: ModelKind = "mlp", **overrides: Any) -> Hyperparameters:
    """Each kind's defaults: the classic MLP as published; the CNN tuned for accuracy per CPU second."""
    defaults: dict[str, Any] = {
        "mlp": {"epochs": 5, "batch_size": 32, "learning_rate": 0.001, "hidden_units": 128, "dropout": 0.0},
        "cnn": {"epochs": 3, "batch_size": 256, "learning_rate": 0.01, "hidden_units": 128, "dropout": 0.1},
        "deep": {"epochs": 10, "batch_size": 128, "learning_rate": 0.002, "hidden_units": 256, "dropout": 0.25},
    }[model]
    return Hyperparameters(model=model, **{**defaults, **overrides})


def build_model(hp: Hyperparameters, steps_per_epoch: int, compute_dtype: ComputeDtype | None = None) -> keras.Model:
    """A compiled model for ``hp``: input (28, 28) floats in 0..1, output 10 probabilities (11 with
    ``hp.not_a_digit``: the last one "not a digit").

    The CNN computes in ``compute_dtype`` (None: what this machine computes natively, digits.compute); the
    others in float32.

    The MLP keeps the classic one's constant learning rate. The convolutional nets' rate falls along a cosine to zero
    over the whole run (``hp.learning_rate`` is where it starts): the last epoch fine-tunes with
    small steps, worth several tenths of a percent in three epochs.
    """
    import keras

    keras.utils.set_random_seed(hp.seed)
    layers = keras.layers
    if hp.model == "mlp":
        # The classic MLP: Flatten -> Dense(128, relu) -> Dense(10, softmax).
        body = [
            layers.Flatten(),
            layers.Dense(hp.hidden_units, activation="relu"),
            *([layers.Dropout(hp.dropout)] if hp.dropout else []),
        ]
    else:
        # Pool after each convolution (or stride the first) so the wide one runs on 14x14. No batch norm: on this
        # CPU it nearly doubled the time per epoch and did not learn faster. "deep" stacks a second
        # convolution at 14x14, which sees larger shapes (loops, crossings).
        wide_convolutions = 2 if hp.model == "deep" else 1
        first_convolution = FIRST_CONVOLUTION[hp.model]
        narrow_filters, wide_filters = CONVOLUTION_FILTERS[hp.model]
        # In bfloat16 the weights stay float32, and so does the output layer. On a CPU with bfloat16 units
        # an epoch took about half the time, for the same accuracy; without them, about 4x float32's.
        if hp.model == "cnn" and compute_dtype is None:
            compute_dtype = machine_compute_dtype()
        compute = {"dtype": "mixed_bfloat16"} if hp.model == "cnn" and compute_dtype == "bfloat16" else {}
        body = [
            layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1), **compute),
            layers.Conv2D(narrow_filters, first_convolution.stencil, strides=first_convolution.stride,
                          padding="same", activation="relu", **compute),
            *([layers.MaxPooling2D(**compute)] if first_convolution.stride == 1 else []),
            *[layers.Conv2D(wide_filters, 3, padding="same", activation="relu", **compute)
              for _ in range(wide_convolutions)],
            layers.MaxPooling2D(**compute),
            layers.Flatten(**compute),
            layers.Dropout(hp.dropout, **compute),
            layers.Dense(hp.hidden_units, activation="relu", **compute),
            layers.Dropout(hp.dropout, **compute),
        ]
    model = keras.Sequential(
        [keras.Input((IMAGE_SIZE, IMAGE_SIZE)), *body,
         layers.Dense(NUM_CLASSES + int(hp.not_a_digit), activation="softmax")],
        name=hp.model,
    )
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = hp.learning_rate
    if hp.model != "mlp":
        learning_rate = keras.optimizers.schedules.CosineDecay(hp.learning_rate, hp.epochs * steps_per_epoch)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def model_compute_dtype(model: keras.Model) -> ComputeDtype:
    """What ``model`` computes in: bfloat16 if any layer does, else float32."""
    return "bfloat16" if any(layer.dtype_policy.compute_dtype == "bfloat16" for layer in model.layers) else "float32"
