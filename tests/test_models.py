from __future__ import annotations

import pytest

from digits.models import Hyperparameters, InvalidSetting, build_model, default_hyperparameters


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("epochs", 0, "epochs must be from 1 to 100"),
        ("epochs", 2.5, "epochs must be a whole number"),
        ("batch_size", 10_000, "batch_size must be from 1 to 4096"),
        ("learning_rate", -0.1, "learning_rate must be from"),
        ("learning_rate", float("nan"), "learning_rate must be from"),
        ("dropout", 0.95, "dropout must be from 0.0 to 0.9"),
        ("model", "rnn", "model must be one of mlp, cnn"),
        ("augment", "yes", "augment must be true or false"),
        ("not_a_digit", 1, "not_a_digit must be true or false"),
        ("seed", True, "seed must be a whole number"),
    ],
)
def test_invalid_settings_name_the_setting_and_range(setting: str, value: object, message: str) -> None:
    with pytest.raises(InvalidSetting, match=message):
        Hyperparameters(**{setting: value})


def test_round_trip_through_a_record_ignores_unknown_keys() -> None:
    hp = default_hyperparameters("cnn", epochs=2)
    assert Hyperparameters.from_dict({**hp.to_dict(), "from_the_future": 1}) == hp


def test_mlp_is_exactly_the_seed() -> None:
    model = build_model(default_hyperparameters("mlp"), steps_per_epoch=10)
    kinds = [(type(layer).__name__, getattr(layer, "units", None)) for layer in model.layers]
    assert kinds == [("Flatten", None), ("Dense", 128), ("Dense", 10)]
    assert model.layers[1].activation.__name__ == "relu"
    assert model.layers[2].activation.__name__ == "softmax"
    assert model.count_params() == 101_770
    assert type(model.optimizer).__name__ == "Adam"
    assert model.loss == "sparse_categorical_crossentropy"


def test_learning_what_is_not_a_digit_adds_an_eleventh_output() -> None:
    for kind in ("mlp", "cnn"):
        model = build_model(default_hyperparameters(kind, not_a_digit=True), steps_per_epoch=10)
        assert model.output_shape == (None, 11)
    # Records saved before the setting existed read as runs that did not learn it.
    old_record = {key: value for key, value in default_hyperparameters("mlp").to_dict().items() if key != "not_a_digit"}
    assert Hyperparameters.from_dict(old_record).not_a_digit is False


def test_cnn_is_compact() -> None:
    model = build_model(default_hyperparameters("cnn"), steps_per_epoch=10)
    assert model.input_shape == (None, 28, 28) and model.output_shape == (None, 10)
    assert model.count_params() < 450_000  # the common Conv32-Conv64-Pool-Dense128 net has 1.2M
