"""The whole `python -m digits train --model cnn` command against the common Conv32-Conv64-Pool-Dense128
Keras CNN (3 epochs, batch 128), in one run on one machine, so the ratio holds however busy it is.

The common CNN trains in this process on the same 54,000 digits (6,000 held out for validation, as the
app does) and is timed from fit to fit's end; the command is timed whole (starting Python and TensorFlow,
loading MNIST, training, testing, saving), once per compute type, forced with DIGITS_COMPUTE_DTYPE (on a CPU
without bfloat16 units bfloat16 is emulated: the machine's own choice there is float32). Both are scored on
the 10,000 test digits. The issue's target: the command at most 0.25 of the common CNN's time, at 0.990 test
accuracy or better.

    PYTHONPATH=. DIGITS_DATA_DIR=... python benchmarks/cnn_speed.py [--seeds 0 1] [--common-epochs 3]
        [--compute-dtypes float32 bfloat16]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras

from digits.compute import COMPUTE_DTYPE_ENV, COMPUTE_DTYPES, machine_compute_dtype
from digits.data import load_mnist
from digits.evaluation import evaluate
from digits.training import split_validation

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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


def digits_command(seed: int, compute_dtype: str) -> tuple[float, float, str]:
    """Seconds of the whole CLI command in ``compute_dtype``, the test accuracy it reports and the compute
    type its record says it used."""
    with tempfile.TemporaryDirectory() as models:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "digits", "train", "--model", "cnn", "--seed", str(seed),
                               "--json"], cwd=PROJECT_ROOT,
                              env={**os.environ, "DIGITS_MODELS_DIR": models, COMPUTE_DTYPE_ENV: compute_dtype},
                              capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - started
    record = json.loads(done.stdout)
    return seconds, record["test"]["accuracy"], record["compute_dtype"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--common-epochs", type=int, default=3)
    parser.add_argument("--compute-dtypes", nargs="+", choices=COMPUTE_DTYPES, default=list(COMPUTE_DTYPES))
    args = parser.parse_args()
    data = load_mnist()
    x_train, y_train, x_val, y_val = split_validation(data, 0.1)
    print(f"This machine's own choice: {machine_compute_dtype()}")
    print(f"{'seed':>4} {'common CNN s':>12} {'acc':>7} {'compute':>8} {'digits train --model cnn s':>27} "
          f"{'acc':>7} {'ratio':>6}")
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        model = common_cnn()
        started = time.perf_counter()
        model.fit(x_train, y_train, batch_size=128, epochs=args.common_epochs, validation_data=(x_val, y_val),
                  verbose=0)
        common_seconds = time.perf_counter() - started
        common_accuracy = evaluate(model, data.x_test, data.y_test).accuracy
        for compute_dtype in args.compute_dtypes:
            ours_seconds, ours_accuracy, recorded = digits_command(seed, compute_dtype)
            assert recorded == compute_dtype, f"forced {compute_dtype}, the record says {recorded}"
            print(f"{seed:>4} {common_seconds:>12.1f} {common_accuracy:>7.4f} {compute_dtype:>8} {ours_seconds:>27.1f} "
                  f"{ours_accuracy:>7.4f} {ours_seconds / common_seconds:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
