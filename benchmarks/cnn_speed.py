"""The default CNN against the common Conv32-Conv64-Pool-Dense128 net, side by side in one process.

Both train on the same 54,000 digits (6,000 held out for validation, as the app does) and are
scored on the 10,000 test digits. Prints seconds, test accuracy and the time ratio.

    python benchmarks/cnn_speed.py [--seeds 0 1] [--common-epochs 3]
"""

from __future__ import annotations

import argparse
import time

import keras

from digits.data import load_mnist
from digits.evaluation import evaluate
from digits.models import default_hyperparameters
from digits.training import split_validation, train


def common_cnn() -> keras.Model:
    """The net most MNIST tutorials use (1.2M parameters), with Adam's defaults."""
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((28, 28)),
        layers.Reshape((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--common-epochs", type=int, default=3)
    args = parser.parse_args()
    data = load_mnist()
    x_train, y_train, x_val, y_val = split_validation(data, 0.1)
    rows = []
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        model = common_cnn()
        started = time.perf_counter()
        model.fit(x_train, y_train, batch_size=128, epochs=args.common_epochs, validation_data=(x_val, y_val),
                  verbose=0)
        seconds = time.perf_counter() - started
        accuracy = evaluate(model, data.x_test, data.y_test).accuracy
        rows.append((f"common CNN, {args.common_epochs} epochs, batch 128", seed, model.count_params(), seconds,
                     accuracy))

        hp = default_hyperparameters("cnn", seed=seed)
        outcome = train(hp, data)
        accuracy = evaluate(outcome.model, data.x_test, data.y_test).accuracy
        rows.append((f"digits CNN defaults, {hp.epochs} epochs, batch {hp.batch_size}", seed,
                     outcome.model.count_params(), outcome.seconds, accuracy))

    print(f"{'model':<42} {'seed':>4} {'params':>9} {'seconds':>8} {'test acc':>8}")
    for name, seed, params, seconds, accuracy in rows:
        print(f"{name:<42} {seed:>4} {params:>9,} {seconds:>8.1f} {accuracy:>8.4f}")
    for seed in args.seeds:
        common, ours = [row for row in rows if row[1] == seed]
        print(f"seed {seed}: digits CNN takes {ours[3] / common[3]:.2f}x the common CNN's time; "
              f"accuracy {ours[4]:.4f} vs {common[4]:.4f}")


if __name__ == "__main__":
    main()
