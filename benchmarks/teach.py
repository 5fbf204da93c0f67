"""Teaching the default model one person's handwriting: before and after, on that person, on other people,
on MNIST, and the seconds it takes.

Each simulated person (digits/people.py) writes with strokes of writers the default model never trained
on; their 50 teaching drawings (5 per digit) and 300 test drawings (30 per digit) are saved as the Draw
page saves them and read back through `teach`'s own reader. "Other people" are the remaining held-out
writers, untouched. The baseline, run in the same process, is the naive fine-tune of the issue: the 50
drawings plus 2,000 MNIST digits with their labels, 3 epochs, every layer learning.

    PYTHONPATH=. python benchmarks/teach.py [--people mirror-child,hard-slant,quirky] [--drawn PATH] [--seed 1]
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from digits.data import load_mnist, normalise
from digits.drawn_sets import render_sample, share_read_right
from digits.people import PEOPLE, pick_per_digit, save_as_drawings, split_writers
from digits.predict import Decision, make_predictor, model_decision
from digits.store import DEFAULT_RUN, ModelStore
from digits.teach import Drawings, accuracy, copy_model, model_from_bytes, read_drawings, teach_task
from digits.unipen import load_drawn_digits

NAIVE_MNIST, NAIVE_EPOCHS = 2000, 3


def naive_fine_tune(model, drawings: Drawings, data, seed: int):
    """The issue's first try: the drawings and some MNIST digits with their labels, plain fit."""
    import keras

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(data.y_train), NAIVE_MNIST, replace=False)
    x = normalise(np.concatenate([drawings.images, data.x_train[rows]]))
    y = np.concatenate([drawings.labels, data.y_train[rows]])
    tuned = copy_model(model)
    tuned.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    tuned.fit(x, y, batch_size=64, epochs=NAIVE_EPOCHS, verbose=0, shuffle=True)
    return tuned


def print_row(name: str, method: str, probabilities, tests: Drawings, other_set, decision: Decision, data,
              seconds: float | None) -> None:
    mine_right = accuracy(probabilities, tests.images, tests.labels)
    others_right = share_read_right(probabilities, other_set, decision)
    mnist_right = accuracy(probabilities, data.x_test, data.y_test)
    time_text = "-" if seconds is None else f"{seconds:.1f}"
    print(f"{name:<13} {method:<8} {mine_right:7.3f} {others_right:7.3f} {mnist_right:7.4f} {time_text:>8}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", default=",".join(person.name for person in PEOPLE))
    parser.add_argument("--drawn", default="../shared/data/unipen/unipen_digits_dev.json.gz",
                        help="UNIPEN digits the people and other writers come from")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    data = load_mnist()
    drawn = load_drawn_digits(args.drawn)
    replay_drawn = load_drawn_digits()  # $DIGITS_DRAWN_DATA: the task replays its non-held-out writers only
    mine, others = split_writers(drawn)
    other_set = render_sample([digit.strokes for digit in others], [digit.label for digit in others], seed=args.seed)
    store = ModelStore()
    model = store.load(DEFAULT_RUN)
    decision = model_decision(model, store.record(DEFAULT_RUN).not_a_digit)  # the taught model keeps it
    print(f"people from {len({d.writer for d in mine})} writers; other people: {len(others)} drawings by "
          f"{len({d.writer for d in others})} writers; MNIST test {len(data.y_test):,}")
    header = f"{'person':<13} {'method':<8} {'person':>7} {'others':>7} {'MNIST':>7} {'seconds':>8}"
    print(header)
    for person in (p for p in PEOPLE if p.name in args.people.split(",")):
        taught, test = pick_per_digit(mine, (5, 30), seed=args.seed)
        with tempfile.TemporaryDirectory() as teach_dir, tempfile.TemporaryDirectory() as test_dir:
            save_as_drawings(Path(teach_dir), [person.writes(digit) for digit in taught], seed=args.seed)
            save_as_drawings(Path(test_dir), [person.writes(digit) for digit in test], seed=args.seed + 1)
            drawings, tests = read_drawings(Path(teach_dir)), read_drawings(Path(test_dir))

        print_row(person.name, "before", make_predictor(model), tests, other_set, decision, data, None)
        started = time.perf_counter()
        naive = naive_fine_tune(model, drawings, data, args.seed)
        naive_seconds = time.perf_counter() - started
        print_row(person.name, "naive", make_predictor(naive), tests, other_set, decision, data, naive_seconds)
        started = time.perf_counter()
        task = teach_task(store, DEFAULT_RUN, drawings, functools.partial(load_mnist), replay_drawn)
        result = task.run(lambda message: None, threading.Event())
        seconds = time.perf_counter() - started
        print_row(person.name, "teach", make_predictor(model_from_bytes(result.model_file)), tests, other_set,
                  decision, data, seconds)
        print(f"{'':<13} teach took {seconds / naive_seconds:.1f}x the naive fine-tune's time; styles found: "
              f"{result.record.taught['styles'] or 'none'}")


if __name__ == "__main__":
    main()
