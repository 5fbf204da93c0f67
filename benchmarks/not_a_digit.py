"""Does the app know what is not a digit? The shipped default model, a CNN freshly trained here on MNIST
alone (with the threshold the Train page calibrates: 99% of its validation digits pass), and one trained as
the Train page's "Learn what is not a digit" trains it (program-made doodles of the training kinds and the
shipped real doodles of the training kinds too), measured on what none of them trained on: pen-drawn digits
and letters by held-out writers, program-made doodles of held-out kinds and real people's (Quick, Draw!)
doodles of held-out kinds, all drawn anywhere on the Draw page's canvas and read through its own path.
Rejections of real digits count as mistakes, everywhere. Then zeros, ones and sevens of the held-out writers
with the extra stroke of a common style (slashed 0, flagged 1, crossed 7), and the time to read one drawing
(preprocessing, prediction and the decision) against ``model.predict`` on one image, measured in the same run.

``--pass-shares`` also measures the default model at other levels of its "not a digit" output, each
calibrated so that that share of MNIST's validation digits pass: the trade between rejecting letters
and doodles and rejecting real digits (MNIST counting rejections).

    PYTHONPATH=. python benchmarks/not_a_digit.py --drawn ../shared/data/unipen/unipen_digits_dev.json.gz \\
        --letters ../shared/data/unipen/unipen_letters_dev.json.gz \\
        --doodles ../shared/data/quickdraw/quickdraw_dev.json.gz [--cnn-epochs 3] \\
        [--pass-shares 0.997 0.998 0.999]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from digits.background.tasks import extra_training_examples
from digits.data import load_mnist
from digits.default_model import RECIPE, HeldOutSets, held_out_sets, split_by_writer, with_style_variant
from digits.drawn_sets import picture_sample, render_sample, share_read_right
from digits.models import default_hyperparameters
from digits.non_digits import calibrate_on_validation, rejected_by_label, right_counting_rejections, score_samples
from digits.predict import Decision, make_predictor, model_decision, read_digits
from digits.preprocess import preprocess_canvas
from digits.quickdraw import load_doodles
from digits.store import DEFAULT_RUN, ModelStore
from digits.training import train
from digits.unipen import load_drawn_digits, load_drawn_letters, random_box, render_strokes

STYLED = (0, 1, 7)


def report(name: str, model, decision: Decision, sets: HeldOutSets, styled, data, by_kind: bool = False) -> None:
    predict = make_predictor(model)
    scores = score_samples(predict, decision, sets.digits, sets.letters, sets.doodles, sets.real_doodles)
    probabilities = predict(data.x_test)
    mnist = right_counting_rejections(probabilities, data.y_test, decision)
    styles = share_read_right(predict, styled, decision)
    print(f"{name:<48} {scores.real_doodles_rejected:>8.4f} {scores.doodles_rejected:>8.4f} "
          f"{scores.letters_rejected:>8.4f} {scores.digits_right:>8.4f} {mnist.mean():>8.4f} {styles:>8.4f}   "
          f"{decision.method} {decision.threshold:.4f}")
    if by_kind:
        # A mean over kinds can hide a kind that always fools it: each held-out kind's share rejected.
        for title, sample in (("program doodles", sets.doodles), ("real doodles", sets.real_doodles)):
            shares = sorted(rejected_by_label(predict, sample, decision).items(), key=lambda item: item[1])
            print(f"    {title} rejected, by held-out kind (worst first): "
                  + ", ".join(f"{kind} {share:.2f}" for kind, share in shares))


def reading_time_ms(model, decision: Decision, canvases: list[np.ndarray]) -> tuple[float, float]:
    """Median ms per canvas to preprocess, predict and decide; and of model.predict on one ready image."""
    predict = make_predictor(model)
    ready = np.zeros((1, 28, 28), np.float32)
    for canvas in canvases[:5]:  # warm up
        read_digits(predict, preprocess_canvas(canvas), decision)
        model.predict(ready, verbose=0)
    ours, keras_predict = [], []
    for canvas in canvases:
        started = time.perf_counter()
        read_digits(predict, preprocess_canvas(canvas), decision)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        model.predict(ready, verbose=0)
        keras_predict.append(time.perf_counter() - started)
    return statistics.median(ours) * 1000, statistics.median(keras_predict) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawn", help="UNIPEN digits file (default: $DIGITS_DRAWN_DATA)")
    parser.add_argument("--letters", required=True, help="UNIPEN letters file")
    parser.add_argument("--doodles", help="Quick, Draw! doodles file (default: $DIGITS_QUICKDRAW_DATA, else the "
                        "shipped ones); the held-out kinds are measured")
    parser.add_argument("--cnn-epochs", type=int, default=default_hyperparameters("cnn").epochs)
    parser.add_argument("--models", nargs="+", choices=("default", "cnn", "cnn-learns"),
                        default=["default", "cnn", "cnn-learns"],
                        help="which to measure: the default model, a CNN trained on MNIST alone, one that also "
                        "learned doodles (the Train page's \"Learn what is not a digit\"); default: all")
    parser.add_argument("--pass-shares", type=float, nargs="*", default=[],
                        help="also measure the default model at these shares of MNIST's validation digits passing")
    args = parser.parse_args()

    drawn, letters = load_drawn_digits(args.drawn), load_drawn_letters(args.letters)
    sets = held_out_sets(drawn, letters, load_doodles(args.doodles))
    rng = np.random.default_rng(0)
    held_styled = [d for d in split_by_writer(drawn)[1] if d.label in STYLED]
    styled = render_sample([with_style_variant(d, rng) for d in held_styled], [d.label for d in held_styled], 3)
    data = load_mnist()
    print(f"held out: {len(sets.digits.labels)} pen digits and {len(sets.letters.labels)} letters by writers never "
          f"trained on, {len(sets.doodles.labels)} program doodles of {len(set(sets.doodles.labels))} kinds and "
          f"{len(sets.real_doodles.labels)} real doodles of {len(set(sets.real_doodles.labels))} kinds never trained "
          f"on; {len(styled.labels)} styled 0/1/7 (MNIST and the styles count a rejection as wrong)")
    print(f"{'model':<48} {'real':>8} {'program':>8} {'letters':>8} {'digits':>8} {'MNIST':>8} {'styles':>8}   "
          "decision")
    print(f"{'':<48} {'doodles':>8} {'doodles':>8} {'rejected':>8} {'right':>8} {'right':>8} {'right':>8}")
    print(f"{'':<48} {'rejected':>8} {'rejected':>8}")

    if "default" in args.models:
        store = ModelStore()
        default_model = store.load(DEFAULT_RUN)
        default_decision = model_decision(default_model, store.record(DEFAULT_RUN).not_a_digit)
        report("default model (shipped)", default_model, default_decision, sets, styled, data, by_kind=True)
        # The MNIST column reads the test digits as arrays; `predict` on PNG files cuts and centres them again.
        as_files = share_read_right(make_predictor(default_model), picture_sample(data.x_test, data.y_test),
                                    default_decision)
        print(f"    MNIST's test digits read from PNG files as `python -m digits predict` reads them, right counting "
              f"rejections: {as_files:.4f}")
        for share in args.pass_shares:
            decision = calibrate_on_validation(default_model, data, RECIPE.validation_split, share)
            report(f"default model, {share:.2%} of MNIST validation pass", default_model, decision, sets, styled,
                   data)
    if "cnn" in args.models:
        hp = default_hyperparameters("cnn", epochs=args.cnn_epochs)
        cnn = train(hp, data).model
        report(f"CNN trained here, {hp.epochs} epochs, MNIST only", cnn,
               calibrate_on_validation(cnn, data, hp.validation_split), sets, styled, data)
    if "cnn-learns" in args.models:
        hp = default_hyperparameters("cnn", epochs=args.cnn_epochs, not_a_digit=True)
        cnn = train(hp, data, extra_train=extra_training_examples(hp)).model
        report(f"CNN, {hp.epochs} epochs, learned doodles too", cnn,
               calibrate_on_validation(cnn, data, hp.validation_split), sets, styled, data, by_kind=True)
    if "default" in args.models:
        canvases = [render_strokes(d.strokes, box=random_box(rng)) for d in drawn[:100]]
        ours, baseline = reading_time_ms(default_model, default_decision, canvases)
        print(f"one drawing with the default model, preprocessing + prediction + decision: median {ours:.2f} ms "
              f"(model.predict on one ready image: {baseline:.1f} ms, {baseline / ours:.0f}x slower)")


if __name__ == "__main__":
    main()
