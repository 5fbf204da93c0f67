"""MNIST-style preprocessing of a canvas against the naive whole-canvas resize, side by side in one process.

Renders 200 real pen-drawn UNIPEN digits onto the Draw page's 280x280 canvas (random size and
place, as people draw) and prints the median time per canvas of ``preprocess_canvas`` and of the
naive baseline (the whole canvas to greyscale, resized to 28x28 by Pillow), and their ratio.
The preprocessing runs after every stroke, so it must stay a small part of the ~280 ms the
canvas itself takes to send a drawing (it waits 200 ms after the last stroke).

    PYTHONPATH=. python benchmarks/preprocess_speed.py [--data PATH] [--count 200] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from digits.preprocess import preprocess_canvas
from digits.unipen import DRAWN_DATA_ENV, load_drawn_digits, random_box, render_strokes

CANVAS_DESCRIPTION = "280x280, 18 px pen, digit at 35-85% of the canvas anywhere on it"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "unipen" / "unipen_digits_dev_1000.json.gz"


def naive(rgba: np.ndarray) -> np.ndarray:
    """What a first attempt does: the whole canvas shrunk to 28x28."""
    return np.asarray(Image.fromarray(rgba, mode="RGBA").convert("L").resize((28, 28)))


def median_ms(function: Callable[[np.ndarray], object], canvases: list[np.ndarray], repeats: int) -> float:
    """Median over canvases of each canvas's best-of-``repeats`` time: other processes only add noise."""
    times = []
    for canvas in canvases:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            function(canvas)
            best = min(best, time.perf_counter() - start)
        times.append(best)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get(DRAWN_DATA_ENV) or str(DEFAULT_DATA))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    drawn = load_drawn_digits(args.data)
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(drawn), size=min(args.count, len(drawn)), replace=False)
    canvases = [render_strokes(drawn[index].strokes, box=random_box(rng)) for index in chosen]
    found = sum(len(preprocess_canvas(canvas)) == 1 for canvas in canvases)

    ours = median_ms(preprocess_canvas, canvases, args.repeats)
    baseline = median_ms(naive, canvases, args.repeats)
    print(f"{len(canvases)} rendered UNIPEN canvases ({CANVAS_DESCRIPTION}); one digit found in {found}")
    print(f"preprocess_canvas (MNIST-style): {ours:.2f} ms median")
    print(f"naive whole-canvas resize:       {baseline:.2f} ms median")
    print(f"ratio: {ours / baseline:.1f}x the naive time")


if __name__ == "__main__":
    main()
