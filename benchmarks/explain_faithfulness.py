"""Is the Draw page's heat map faithful, and how much time does it add? The deletion test on pen-drawn digits.

Pen-drawn UNIPEN digits are rendered onto the canvas and prepared exactly as the Draw page does
(``digits.drawn_sets``). For each drawing, blanking the 15% of its ink pixels that a saliency map ranks
highest must lower the model's probability for its answer far more than blanking a random 15% of the
ink, or the brightest 15%. Printed for the shipped default model and a freshly trained MLP, for each
method tried: an "ink copy" (a map that merely copies the drawing: plausible to the eye, not faithful),
occlusion (each ink pixel blanked alone), and integrated gradients of the probability (the app's
method) at 8, 16 and 32 steps, or of the logit (the score before the softmax).

Only writers the default model never learned from are used, split by writer into a half to choose the
method on and a half held apart, whose figures are the honest ones. Then the time one drawing takes:
the prediction alone, and the prediction plus the app's saliency map (the added time must stay < 50 ms).

    PYTHONPATH=. DIGITS_DATA_DIR=../shared/data/mnist python benchmarks/explain_faithfulness.py \
        [--data ../shared/data/unipen/unipen_digits_dev.json.gz] [--mlp-epochs 5] [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from digits.charts import enlarge, saliency_overlay
from digits.data import load_mnist
from digits.default_model import is_held_out_writer
from digits.drawn_sets import render_sample
from digits.explain import SALIENCY_STEPS, deletion_drops, make_saliency, ranked_digits
from digits.models import default_hyperparameters
from digits.predict import ProbabilityFunction, make_predictor
from digits.store import ModelStore
from digits.training import train
from digits.unipen import DRAWN_DATA_ENV, load_drawn_digits

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "unipen" / "unipen_digits_dev.json.gz"
DRAW_PAGE_SCALE = 6  # the Draw page shows the 28x28 map at 168x168
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]  # images, answers -> saliency


def occlusion(probabilities: ProbabilityFunction) -> Method:
    """Each ink pixel's own effect: how much the answer's probability falls when that pixel alone is blanked."""

    def saliency(images: np.ndarray, answers: np.ndarray) -> np.ndarray:
        maps = np.zeros(images.shape, dtype=np.float32)
        for image, answer, map_ in zip(images, answers, maps, strict=True):
            rows, columns = np.nonzero(image)
            copies = np.repeat(image[np.newaxis], len(rows), axis=0)
            copies[np.arange(len(rows)), rows, columns] = 0
            whole = probabilities(image)[0, answer]
            map_[rows, columns] = whole - probabilities(copies)[:, answer]
        return maps

    return saliency


def logits_of(model):
    """The model's scores before its final softmax, as a callable make_saliency can differentiate."""
    import keras

    body = keras.Model(model.inputs, model.layers[-2].output)
    last = model.layers[-1]
    return lambda x, training=False: body(x, training=training) @ last.kernel + last.bias


def methods(model, probabilities: ProbabilityFunction) -> dict[str, Method]:
    return {
        # Ties broken at random, as for the brightest ink: reading order would favour the top of the digit.
        "ink copy": lambda images, answers: images + np.random.default_rng(1).random(images.shape) * 1e-4,
        "occlusion (one pixel)": occlusion(probabilities),
        "integrated gradients, 8 steps": make_saliency(model, steps=8),
        "integrated gradients, 16 steps": make_saliency(model, steps=16),
        f"integrated gradients, {SALIENCY_STEPS} steps (app)": make_saliency(model),
        f"integrated gradients of the logit, {SALIENCY_STEPS}": make_saliency(logits_of(model)),
    }


def in_batches(method: Method, images: np.ndarray, answers: np.ndarray, size: int = 64) -> np.ndarray:
    return np.concatenate([method(images[i:i + size], answers[i:i + size]) for i in range(0, len(images), size)])


def faithfulness_table(name: str, model, halves: dict[str, np.ndarray]) -> None:
    probabilities = make_predictor(model)
    print(f"\n{name}: mean fall of the answer's probability when 15% of the ink is blanked")
    print(f"{'method':<44} {'set':<12} {'ranked':>7} {'random':>7} {'bright':>7} {'x random':>9} {'x bright':>9}")
    for method_name, method in methods(model, probabilities).items():
        for half, images in halves.items():
            answers = probabilities(images)[:, :10].argmax(axis=1)
            drops = deletion_drops(probabilities, images, in_batches(method, images, answers))
            print(f"{method_name:<44} {half:<12} {drops.saliency:7.4f} {drops.random:7.4f} {drops.brightest:7.4f} "
                  f"{drops.versus_random:9.1f} {drops.versus_brightest:9.1f}")


def median_ms(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def timing_table(name: str, model, images: np.ndarray, repeats: int) -> None:
    """One drawing at a time, as the Draw page reads them: the prediction, then its map as an image."""
    probabilities, saliency = make_predictor(model), make_saliency(model)

    def heat_map(image: np.ndarray, probabilities_of_image: np.ndarray) -> np.ndarray:
        """What the Draw page adds after its prediction: the map for the answer, drawn as its image."""
        answer = np.array([ranked_digits(probabilities_of_image[0])[0]])
        return enlarge(saliency_overlay(image, saliency(image, answer)[0]), DRAW_PAGE_SCALE)

    probabilities(images[:1]), saliency(images[:1], np.array([0]))  # compiled before timing
    predict_times, both_times = [], []
    for image in images[:repeats]:
        predict_times.append(median_ms(lambda image=image: probabilities(image), 3))
        both_times.append(median_ms(lambda image=image: heat_map(image, probabilities(image)), 3))
    predict, both = statistics.median(predict_times), statistics.median(both_times)
    print(f"{name}: prediction {predict:.1f} ms; prediction + heat map image {both:.1f} ms; "
          f"added {both - predict:.1f} ms per drawing ({both / predict:.1f}x the prediction alone)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get(DRAWN_DATA_ENV) or str(DEFAULT_DATA))
    parser.add_argument("--mlp-epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=30, help="drawings timed one at a time")
    args = parser.parse_args()

    unseen = [digit for digit in load_drawn_digits(args.data) if is_held_out_writer(digit.writer)]
    writers = sorted({digit.writer for digit in unseen})
    tuning_writers = set(writers[::2])
    halves = {}
    for half, keep in (("tuning", True), ("held apart", False)):
        chosen = [digit for digit in unseen if (digit.writer in tuning_writers) == keep]
        drawn = render_sample([digit.strokes for digit in chosen], [digit.label for digit in chosen])
        halves[half] = np.array([parts[0] for parts in drawn.parts if len(parts) == 1])  # read as one digit
        print(f"{half}: {len(halves[half])} drawings by {len({d.writer for d in chosen})} writers the default "
              "model never saw")

    default = ModelStore().load("default")
    mlp_hp = default_hyperparameters("mlp", epochs=args.mlp_epochs, batch_size=128)
    started = time.perf_counter()
    mlp = train(mlp_hp, load_mnist()).model
    print(f"fresh MLP ({args.mlp_epochs} epochs on MNIST only) trained in {time.perf_counter() - started:.0f} s")

    for name, model in (("default model", default), ("fresh MLP", mlp)):
        faithfulness_table(name, model, halves)
    print(f"\nTime per drawing, one at a time (median of {args.repeats} drawings):")
    for name, model in (("default model", default), ("fresh MLP", mlp)):
        timing_table(name, model, halves["held apart"], args.repeats)


if __name__ == "__main__":
    main()
