"""How well the app reads digits people *draw*: real UNIPEN pen strokes rendered onto the Draw page's
280x280 canvas (white ink, the page's pen, anywhere on the canvas at 35-85% of its size, fixed seed),
read through the page's preprocessing and models. Baselines trained here, in the same process:
the classic MLP (5 epochs) and a plain CNN (no augmentation), each reading the whole canvas shrunk
to 28x28 and the MNIST-style preprocessed image. Then the shipped default model, on every drawing
and on the writers it never trained on. Last, the time to read one canvas.

    python benchmarks/drawn_digits.py [--drawn PATH] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from PIL import Image

from digits.data import load_mnist
from digits.default_model import is_held_out_writer
from digits.models import default_hyperparameters
from digits.predict import make_predictor
from digits.preprocess import preprocess_canvas
from digits.store import DEFAULT_RUN, ModelStore
from digits.training import train
from digits.unipen import load_drawn_digits, random_box, render_strokes


def whole_canvas_resized(rgba: np.ndarray) -> np.ndarray:
    """The naive way: the whole canvas shrunk to 28x28, no cropping or centring."""
    return np.asarray(Image.fromarray(rgba[..., :3].max(axis=2)).resize((28, 28), Image.Resampling.BOX))


def accuracy(predict, images: np.ndarray, labels: np.ndarray, readable: np.ndarray) -> float:
    return float(((predict(images).argmax(axis=1) == labels) & readable).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawn", help="UNIPEN digits file (default: $DIGITS_DRAWN_DATA)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    drawn = load_drawn_digits(args.drawn)
    rng = np.random.default_rng(args.seed)
    canvases = [render_strokes(digit.strokes, box=random_box(rng)) for digit in drawn]
    labels = np.array([digit.label for digit in drawn])
    held_out = np.array([is_held_out_writer(digit.writer) for digit in drawn])
    naive = np.stack([whole_canvas_resized(canvas) for canvas in canvases])
    mnist_style = np.zeros((len(drawn), 28, 28), dtype=np.uint8)
    single = np.zeros(len(drawn), dtype=bool)  # read as exactly one digit; anything else counts as wrong
    for row, canvas in enumerate(canvases):
        found = preprocess_canvas(canvas)
        if len(found) == 1:
            mnist_style[row], single[row] = found[0], True
    everything = np.ones(len(drawn), dtype=bool)

    data = load_mnist()
    rows = []
    for label, hp in (("classic MLP, 5 epochs", default_hyperparameters("mlp")),
                      ("plain CNN, 3 epochs, no augmentation", default_hyperparameters("cnn"))):
        outcome = train(hp, data)
        predict = make_predictor(outcome.model)
        rows.append((f"{label}: whole canvas resized", accuracy(predict, naive, labels, everything), "all"))
        rows.append((f"{label}: MNIST-style preprocessing", accuracy(predict, mnist_style, labels, single), "all"))

    store = ModelStore()
    default_model = store.load(DEFAULT_RUN)
    predict = make_predictor(default_model)
    rows.append(("default model: MNIST-style preprocessing", accuracy(predict, mnist_style, labels, single), "all"))
    rows.append(("default model, writers it never trained on",
                 accuracy(predict, mnist_style[held_out], labels[held_out], single[held_out]), "held-out"))

    print(f"{len(drawn)} drawings by {len({d.writer for d in drawn})} writers "
          f"({held_out.sum()} by the {len({d.writer for d in drawn if is_held_out_writer(d.writer)})} writers "
          f"the default model never trained on); {int((~single).sum())} not read as exactly one digit")
    print(f"{'reader':<62} {'drawings':>9} {'accuracy':>9}")
    for name, value, subset in rows:
        print(f"{name:<62} {subset:>9} {value:>9.4f}")
    record = store.record(DEFAULT_RUN)
    print(f"default model: MNIST test accuracy {record.test['accuracy']:.4f}")

    # Latency for one canvas, as the Draw page does it after each stroke.
    sample = canvases[:200]
    for canvas in sample[:5]:  # warm up
        predict(np.stack(preprocess_canvas(canvas)))
    page_times, predict_times = [], []
    for canvas in sample:
        started = time.perf_counter()
        images = preprocess_canvas(canvas)
        if images:
            predict(np.stack(images))
        page_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        default_model.predict(mnist_style[:1] / 255.0, verbose=0)
        predict_times.append(time.perf_counter() - started)
    page_ms, keras_ms = statistics.median(page_times) * 1000, statistics.median(predict_times) * 1000
    print(f"one canvas, preprocessing + prediction: median {page_ms:.2f} ms "
          f"(model.predict alone on the same input: {keras_ms:.1f} ms; {keras_ms / page_ms:.0f}x slower)")


if __name__ == "__main__":
    main()
