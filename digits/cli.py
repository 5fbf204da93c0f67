"""python -m digits: train, evaluate, list, delete, predict and explain from the command line.

Exit codes: 0 ok, 1 failure, 2 bad usage or input. Bad input never prints a traceback.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from digits.background.engines import engine_from_environment
from digits.background.jobs import Engine, EngineUnavailable, Job, Snapshot, Task
from digits.compute import InvalidComputeDtype, environment_compute_dtype
from digits.data import NUM_CLASSES, DataError, load_mnist
from digits.models import MODEL_KINDS, InvalidSetting, default_hyperparameters
from digits.store import BUILTIN_DEFAULT_DIR, ModelStore, StoreError, run_summary

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the person at the keyboard: exit code 2."""


def _print_json(value: Any) -> None:
    print(json.dumps(value), flush=True)


def _progress_line(snapshot: Any) -> str:
    metrics = snapshot.metrics
    if metrics is None:
        return snapshot.status_text + "..."
    width = 30
    filled = int(width * metrics.step / max(metrics.steps_per_epoch, 1))
    epoch = metrics.current_epoch
    loss = metrics.recent_mean(metrics.batch_loss)
    eta = f"{metrics.eta_seconds:.0f}s" if metrics.eta_seconds is not None else "-"
    return (
        f"Epoch {epoch}/{metrics.epochs} [{'=' * filled}{' ' * (width - filled)}] "
        f"recent loss {'-' if loss is None else format(loss, '.4f')}  {metrics.examples_per_second:,.0f} ex/s  "
        f"ETA {eta}"
    )


def _epoch_summary(metrics: Any, epoch: int) -> str:
    text = f"Epoch {epoch + 1}/{metrics.epochs}: loss {metrics.epoch_loss[epoch]:.4f}, "
    text += f"accuracy {metrics.epoch_accuracy[epoch]:.4f}"
    if epoch < len(metrics.val_loss):
        text += f", validation loss {metrics.val_loss[epoch]:.4f}, accuracy {metrics.val_accuracy[epoch]:.4f}"
    return text


def _engine(args: argparse.Namespace) -> Engine:
    """--ray ADDRESS, else DIGITS_RAY_ADDRESS, else a process of its own on this machine."""
    # Lower priority is for the app's server, where it keeps drawing quick while runs train; a person who
    # runs a command here is waiting for it.
    return engine_from_environment(niceness=0, ray_address=args.ray)


def _follow(job: Job, kept: str) -> Snapshot:
    """Show ``job``'s epochs as they end (and, at a terminal, a progress bar) until it ends; Ctrl-C stops it
    after the current batch, and ``kept`` (what is saved then) is said. Its last snapshot."""
    interactive = sys.stderr.isatty()
    epochs_reported = 0

    def report_epochs(snapshot: Snapshot) -> None:
        nonlocal epochs_reported
        while snapshot.metrics is not None and epochs_reported < len(snapshot.metrics.epoch_loss):
            print("\r" + _epoch_summary(snapshot.metrics, epochs_reported).ljust(100), file=sys.stderr)
            epochs_reported += 1

    try:
        while not job.wait(0.25):
            snapshot = job.snapshot()
            report_epochs(snapshot)
            if interactive:
                print("\r" + _progress_line(snapshot).ljust(100), end="", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print(f"\nStopping after the current batch; {kept} will be saved.", file=sys.stderr)
        job.stop()
        job.wait()
    snapshot = job.snapshot()
    report_epochs(snapshot)
    return snapshot


def _run_in_background(args: argparse.Namespace, task: Task, store: ModelStore, kept: str) -> tuple[Snapshot, Any]:
    """Run ``task`` on the engine ``args`` choose, followed (see _follow) until it ends: its last snapshot and the
    record of the run it saved (None, said on stderr, when it saved none)."""
    snapshot = _follow(_engine(args).job(task, store).start(), kept)
    return snapshot, _saved_record(snapshot)


def _saved_record(snapshot: Any) -> Any:
    """The record of the run a job saved; None, after saying why on stderr, when it saved none."""
    if snapshot.record is None:
        print(f"\n{snapshot.status_text}.", file=sys.stderr)
        if snapshot.error:
            print(snapshot.error, file=sys.stderr)
    return snapshot.record


def command_train(args: argparse.Namespace, store: ModelStore) -> int:
    from digits.background.tasks import TrainTask

    overrides = {
        key: value
        for key, value in {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "seed": args.seed,
            "augment": args.augment or None,
            "not_a_digit": args.not_a_digit or None,
        }.items()
        if value is not None
    }
    hp = default_hyperparameters(args.model, **overrides)
    environment_compute_dtype()  # a mistyped DIGITS_COMPUTE_DTYPE is reported before anything starts
    name = args.name or store.unique_name(f"{hp.model}-{time.strftime('%Y%m%d-%H%M%S')}")
    if store.exists(name):
        raise UsageError(f"A run named {name!r} already exists; choose another --name or delete it first.")
    load_mnist()  # here first, so a data problem is reported before anything starts
    snapshot, record = _run_in_background(args, TrainTask(hp, name, load_mnist, snapshots=not args.no_snapshots),
                                          store, "the model trained so far")
    if record is None:
        return EXIT_FAILURE
    if args.json:
        _print_json(record.to_dict())
    else:
        print(
            f"Saved run {record.name!r} ({snapshot.status_text.lower()}): test accuracy "
            f"{record.test['accuracy']:.4f}, test loss {record.test['loss']:.4f}, "
            f"{record.test['wrong']} of {record.test['count']:,} test digits wrong, "
            f"trained in {record.training_seconds:.1f} s"
            + (f" on Ray node {record.engine['node_id']}." if record.engine.get("name") == "ray" else ".")
        )
    return EXIT_OK


def command_sweep(args: argparse.Namespace, store: ModelStore) -> int:
    from digits.background.tasks import TrainTask
    from digits.compare import parse_vary, race_entry, race_hyperparameters, race_sentences, run_name, value_label

    setting, values = parse_vary(args.vary)
    fixed = {key: value for key, value in {"epochs": args.epochs, "batch_size": args.batch_size,
                                           "learning_rate": args.learning_rate, "seed": args.seed}.items()
             if value is not None}
    settings = race_hyperparameters(args.model, setting, values, **fixed)
    environment_compute_dtype()
    prefix = args.name or f"sweep-{time.strftime('%Y%m%d-%H%M%S')}"
    names = [store.unique_name(run_name(prefix, setting, value)) for value in values]
    labels = [value_label(setting, value) for value in values]
    load_mnist()  # here first, so a data problem is reported before anything starts
    engine = _engine(args)
    # All start together; past the engine's capacity they wait their turn.
    tasks = [TrainTask(hp, name, load_mnist) for hp, name in zip(settings, names, strict=True)]
    jobs = [engine.job(task, store).start() for task in tasks]
    print(f"Racing {len(jobs)} runs of {setting}: {', '.join(labels)} ({engine.name} engine, "
          f"{engine.max_running} at a time).", file=sys.stderr)
    reported = [0] * len(jobs)
    try:
        while not all([job.wait(0.25) for job in jobs]):
            for index, job in enumerate(jobs):
                metrics = job.snapshot().metrics
                while metrics is not None and reported[index] < len(metrics.epoch_loss):
                    print(f"[{labels[index]}] {_epoch_summary(metrics, reported[index])}", file=sys.stderr)
                    reported[index] += 1
    except KeyboardInterrupt:
        print("\nStopping every run after its current batch; what they trained so far will be saved.",
              file=sys.stderr)
        for job in jobs:
            job.stop()
        for job in jobs:
            job.wait()
    entries = [race_entry(label, job.snapshot()) for label, job in zip(labels, jobs, strict=True)]
    sentences = race_sentences(entries)
    if args.json:
        _print_json({"setting": setting, "values": values, "runs": [entry.to_dict() for entry in entries],
                     "summary": sentences})
    else:
        print(f"{setting:<22} {'run':<40} {'status':<9} {'test acc':>8} {'seconds':>8} {'digits/s':>9}")
        for entry in entries:
            print(f"{entry.label:<22} {entry.name:<40} {entry.status:<9} "
                  f"{'-' if entry.accuracy is None else format(entry.accuracy, '.4f'):>8} "
                  f"{'-' if entry.seconds is None else format(entry.seconds, '.1f'):>8} "
                  f"{'-' if entry.digits_per_second is None else format(entry.digits_per_second, ',.0f'):>9}")
        print("\n".join(sentences))
    return EXIT_OK if all(entry.accuracy is not None for entry in entries) else EXIT_FAILURE


def _load_run(store: ModelStore, name: str) -> Any:
    try:
        return store.load(name)
    except StoreError as error:
        raise UsageError(str(error)) from error


def command_evaluate(args: argparse.Namespace, store: ModelStore) -> int:
    from digits.saved_probabilities import evaluation_of_run

    folder = store.folder(args.name)  # StoreError for a name no run can have
    # From the test probabilities saved with the run when it has them: no TensorFlow to load.
    result = evaluation_of_run(folder, load_mnist(), lambda: _load_run(store, args.name))
    if args.json:
        _print_json(
            {
                "name": args.name,
                **result.summary(),
                "confusion_matrix": result.confusion.tolist(),
                "precision": result.precision.tolist(),
                "recall": result.recall.tolist(),
                "f1": result.f1.tolist(),
                "confused_pairs": [list(pair) for pair in result.confused_pairs()],
            }
        )
        return EXIT_OK
    print(f"Run {args.name!r} on {result.count:,} MNIST test digits:")
    print(f"  accuracy {result.accuracy:.4f}  loss {result.loss:.4f}  ({result.wrong} wrong)")
    print("  digit  precision  recall  f1")
    for digit in range(10):
        print(f"  {digit:>5}  {result.precision[digit]:9.4f}  {result.recall[digit]:6.4f}  {result.f1[digit]:.4f}")
    for true, predicted, count in result.confused_pairs():
        print(f"  {true} taken for {predicted}: {count} times")
    return EXIT_OK


def command_list(args: argparse.Namespace, store: ModelStore) -> int:
    runs = store.list()
    if args.json:
        _print_json(
            [
                {"name": run.name, "problem": run.problem, **(run.record.to_dict() if run.record else {})}
                for run in runs
            ]
        )
        return EXIT_OK
    if not runs:
        print(f"No saved runs in {store.root}. Train one: python -m digits train")
        return EXIT_OK
    print(f"{'name':<32} {'model':<5} {'epochs':>6} {'batch':>5} {'test acc':>8} {'seconds':>8}  saved (UTC)")
    for row in map(run_summary, runs):
        if "Problem" in row:
            print(f"{row['Name']:<32} damaged: {row['Problem']}")
            continue
        accuracy = row["Test accuracy"]
        print(
            f"{row['Name']:<32} {row['Kind'].lower():<5} {row['Epochs']!s:>6} {row['Batch size']!s:>5} "
            f"{'-' if accuracy is None else format(accuracy, '.4f'):>8} {row['Training time (s)']:>8.1f}  "
            f"{row['Saved']}"
        )
    return EXIT_OK


def command_delete(args: argparse.Namespace, store: ModelStore) -> int:
    try:
        store.delete(args.name)
    except StoreError as error:
        raise UsageError(str(error)) from error
    print(f"Deleted run {args.name!r}.")
    return EXIT_OK


def read_image_digits(path: Path) -> list[Any]:
    """The digits in a PNG or JPEG file, prepared as MNIST's were; UsageError if it cannot be read."""
    from digits.preprocess import ImageError, open_image, preprocess_image

    try:
        return preprocess_image(open_image(path))
    except FileNotFoundError as error:
        raise UsageError(f"{path}: no such file.") from error
    except (ImageError, OSError) as error:
        raise UsageError(f"{path}: {error}") from error


def command_predict(args: argparse.Namespace, store: ModelStore) -> int:
    from digits.predict import Outcome, make_predictor, model_decision, outcome_of, read_digits

    images = {path: read_image_digits(Path(path)) for path in args.images}  # all checked before loading a model
    model = _load_run(store, args.model)
    decision = model_decision(model, store.record(args.model).not_a_digit)
    predictor = make_predictor(model)
    for path, digit_images in images.items():
        reading = read_digits(predictor, digit_images, decision)
        outcome = outcome_of(reading)
        if args.json:
            result: dict[str, Any] = {"path": path, "number": None, "digit": None, "confidence": None,
                                      "probabilities": None, "digits": []}
            if reading is not None:
                result.update(confidence=reading.confidence, closest=reading.closest,
                              digits=[prediction.to_dict() for prediction in reading.predictions])
                if len(reading.predictions) == 1:
                    result.update(reading.predictions[0].to_dict())
                result.update(number=reading.number, digit=int(reading.number) if reading.number and
                              len(reading.predictions) == 1 else None)
            if outcome is not Outcome.DIGIT:
                result["message"] = "no digit" if outcome is Outcome.NO_INK else "not a digit"
            _print_json(result)
        elif reading is None:
            print(f"{path}: no digit")
        elif outcome is Outcome.NOT_A_DIGIT:
            what = "not a digit" if len(reading.predictions) == 1 else f"not a number ({reading.text})"
            print(f"{path}: {what}; closest: {reading.closest}")
        else:
            print(f"{path}: {reading.text} ({reading.confidence:.1%} sure)")
    return EXIT_OK


PNG_SCALE = 10  # each of the model's pixels as a 10x10 square
SALIENCY_TEXT_LEVELS = ((0.5, "##"), (0.2, "++"), (0.05, "::"))  # share of the map's maximum -> characters


def saliency_text(image: Any, saliency: Any) -> str:
    """A 28x28 map as text, two characters a pixel: ## ++ :: where the ink pushed most to least, .. other ink."""
    peak = float(saliency.max()) or 1.0
    rows = []
    for image_row, saliency_row in zip(image, saliency / peak, strict=True):
        cells = []
        for ink, level in zip(image_row, saliency_row, strict=True):
            mark = next((text for threshold, text in SALIENCY_TEXT_LEVELS if level >= threshold), "..")
            cells.append(mark if ink else "  ")
        rows.append("".join(cells).rstrip())
    return "\n".join(rows)


def command_replay(args: argparse.Namespace, store: ModelStore) -> int:
    """Each snapshot's pictures as PNGs: NN-strip.png, NN-map.png and what it had learned (NN-patterns.png...)."""
    from PIL import Image

    from digits import snapshots
    from digits.inside_charts import learned_pictures, map_picture, strip_picture, when_text

    store.record(args.name)  # a clear message for a run that does not exist
    try:
        recording = snapshots.load(store.folder(args.name), args.name)
    except snapshots.SnapshotsDamaged as error:
        raise UsageError(str(error)) from error
    if recording is None:
        raise UsageError(f"Run {args.name!r} has no snapshots: it was saved before snapshots existed, or trained "
                         "with --no-snapshots.")
    assert recording.probe is not None
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{out}: cannot write there ({error.strerror or error}).") from error
    labels = recording.probe.map_labels
    for index, snapshot in enumerate(recording.snapshots):
        pictures = [("strip", strip_picture(snapshot, recording.probe)),
                    ("map", map_picture(snapshot, recording.probe)),
                    *[(name, picture) for name, _, picture in learned_pictures(snapshot, recording.probe)]]
        for name, picture in pictures:
            Image.fromarray(picture).save(out / f"{index:02d}-{name}.png")
        per_digit = " ".join(f"{digit}:{share:.0%}" for digit, share in enumerate(snapshot.per_digit_accuracy(labels)))
        print(f"{index:02d} {when_text(snapshot)}: {snapshot.map_accuracy(labels):.1%} of the map's digits right "
              f"({per_digit})")
    print(f"Wrote {len(recording.snapshots)} snapshots' pictures to {out}.", file=sys.stderr)
    return EXIT_OK


def command_explain(args: argparse.Namespace, store: ModelStore) -> int:
    import numpy as np
    from PIL import Image

    from digits.charts import enlarge, saliency_overlay
    from digits.explain import make_saliency, ranked_digits
    from digits.predict import make_predictor

    images = {path: read_image_digits(Path(path)) for path in args.images}  # all checked before loading a model
    out = Path(args.out) if args.out else None
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"{out}: cannot write there ({error.strerror or error}).") from error
    model = _load_run(store, args.model)
    predictor, saliency = make_predictor(model), make_saliency(model)
    for path, digit_images in images.items():
        parts = []
        if digit_images:
            stack = np.stack(digit_images)
            probabilities = predictor(stack)
            digits = [ranked_digits(row)[0] for row in probabilities]
            maps = saliency(stack, np.array(digits))
            parts = [{"digit": digit, "confidence": float(row[digit]), "input": image.tolist(),
                      "saliency": map_.round(8).tolist()}
                     for digit, row, image, map_ in zip(digits, probabilities, stack, maps, strict=True)]
        written = []
        if out is not None:
            for index, (image, part) in enumerate(zip(digit_images, parts, strict=True)):
                name = Path(path).stem + (f"-{index + 1}" if len(parts) > 1 else "") + "-saliency.png"
                overlay = saliency_overlay(image, np.array(part["saliency"]))
                Image.fromarray(enlarge(overlay, PNG_SCALE)).save(out / name)
                written.append(str(out / name))
        if args.json:
            result: dict[str, Any] = {"path": path, "digit": None, "confidence": None, "input": None,
                                      "saliency": None, "digits": parts}
            if not parts:
                result["message"] = "no digit"
            elif len(parts) == 1:
                result.update(parts[0])
            if written:
                result["images"] = written
            _print_json(result)
            continue
        if not parts:
            print(f"{path}: no digit")
        for index, part in enumerate(parts):
            where = f" (digit {index + 1} of {len(parts)})" if len(parts) > 1 else ""
            print(f"{path}{where}: {part['digit']} ({part['confidence']:.1%} sure). What made it say "
                  f"{part['digit']}: ## most, ++ and :: less, .. ink that did not help")
            if out is None:
                print(saliency_text(np.array(part["input"]), np.array(part["saliency"])))
        for name in written:
            print(f"  wrote {name}")
    return EXIT_OK


def command_build_default(args: argparse.Namespace, store: ModelStore) -> int:
    from dataclasses import replace

    from digits.default_model import RECIPE, averaged, averages_with, build_default, ship_default
    from digits.quickdraw import load_doodles
    from digits.unipen import DrawnDataError, load_drawn_digits, load_drawn_letters

    try:
        drawn = load_drawn_digits(args.drawn_data)
        letters = load_drawn_letters(args.letters)
        real = load_doodles(args.doodles)
    except DrawnDataError as error:
        raise UsageError(str(error)) from error
    base = (_load_run(store, args.base), store.record(args.base)) if args.base else None
    progress = functools.partial(print, file=sys.stderr, flush=True)
    average_with = [_load_run(store, name) for name in args.average_with]
    if average_with and not averages_with(base[0] if base is not None else None, average_with):
        raise UsageError(f"--average-with {' '.join(args.average_with)}: only runs of the same layers as the model "
                         "built here, with the \"not a digit\" output, can be averaged with it.")
    if base is not None and base[0].output_shape[-1] != NUM_CLASSES:  # trained already: measure it again
        model, record = base
        record = ship_default(averaged([model, *average_with]), load_mnist(), drawn, letters, real, record,
                              record.drawn.get("training_drawings", 0), Path(args.output), progress)
    else:
        hp = replace(RECIPE, epochs=args.epochs) if args.epochs else RECIPE
        record = build_default(load_mnist(), drawn, letters, real, hp, Path(args.output), progress, base,
                               average_with)
    held_out = record.not_a_digit["held_out"]
    print(f"Saved the default model in {args.output}: MNIST test accuracy {record.test['accuracy']:.4f}; held out: "
          f"digits read right {held_out['digits_right']:.4f}, letters rejected {held_out['letters_rejected']:.4f}, "
          f"doodles rejected {held_out['doodles_rejected']:.4f}, real doodles rejected "
          f"{held_out['real_doodles_rejected']:.4f}.")
    return EXIT_OK


def _figures(figures: dict[str, float]) -> str:
    names = {"yours": "your drawings", "other_people": "other people's drawings", "mnist": "MNIST test"}
    return ", ".join(f"{names[key]} {value:.1%}" for key, value in figures.items())


def command_teach(args: argparse.Namespace, store: ModelStore) -> int:
    from digits.teach import TeachError, check_enough, other_peoples_digits, read_drawings, teach_task

    if args.name and store.exists(args.name):
        raise UsageError(f"A run named {args.name!r} already exists; choose another --name or delete it first.")
    try:
        drawings = read_drawings(Path(args.drawings))
        for reason in drawings.skipped:
            print(f"skipped {reason}", file=sys.stderr)
        check_enough(drawings)
        load_mnist()  # here first, so a data problem is reported before anything starts
        task = teach_task(store, args.model, drawings, load_mnist, other_peoples_digits(), args.name)
    except TeachError as error:
        raise UsageError(str(error)) from error
    print(f"Teaching {args.model!r} {len(drawings)} drawings (per digit: {drawings.counts()}) as {task.name!r}...",
          file=sys.stderr)
    snapshot, record = _run_in_background(args, task, store, "what it has learned so far")
    if record is None:
        return EXIT_FAILURE
    if args.json:
        _print_json(record.to_dict())
        return EXIT_OK
    taught = record.taught
    print(f"\nSaved run {record.name!r} ({snapshot.status_text.lower()}) in {record.training_seconds:.0f} s.")
    if taught["styles"]:
        print("It noticed you write " + ", ".join(f"{digit} {style}" for digit, style in taught["styles"].items()))
    measured = (f"on {taught['measured_on']} of your drawings it did not learn from" if taught["held_out"] else
                f"on the {taught['measured_on']} drawings it learned from (too few to hold some back for a fair test)")
    print(f"Measured {measured}:\n  before: {_figures(taught['before'])}\n  after:  {_figures(taught['after'])}")
    return EXIT_OK


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 on its own; keep its message short
        raise UsageError(f"{message}\nSee: {self.prog} --help")


def _add_settings(command: argparse.ArgumentParser, applies_to: str = "") -> None:
    """The training settings ``train`` and ``sweep`` take (``applies_to`` says to which runs)."""
    command.add_argument("--epochs", type=int, help="passes over the training digits" + applies_to)
    command.add_argument("--batch-size", type=int, help="digits per training step" + applies_to)
    command.add_argument("--learning-rate", type=float, help="Adam's step size" + applies_to)
    command.add_argument("--seed", type=int, help="random seed, for reproducible runs" + applies_to)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m digits", description="Train, evaluate and use MNIST digit classifiers.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a model and save it as a run")
    train.add_argument("--model", choices=MODEL_KINDS, default="mlp",
                       help="mlp (the classic one-layer network), cnn (the fast convolutional one) or deep "
                       "(the deeper convolutional one); default: mlp")
    _add_settings(train)
    train.add_argument("--augment", action="store_true", help="train on randomly varied digits")
    train.add_argument("--not-a-digit", action="store_true",
                       help="learn what is not a digit: an 11th output, trained on doodles too")
    train.add_argument("--name", help="run name (default: model kind and time)")
    train.add_argument("--json", action="store_true", help="print the run record as one JSON object")
    train.add_argument("--ray", metavar="ADDRESS", help="train on this Ray cluster (default: $DIGITS_RAY_ADDRESS, "
                       "else on this machine)")
    train.add_argument("--no-snapshots", action="store_true",
                       help="keep no snapshots of the network as it learns (`replay` shows them)")

    replay = commands.add_parser("replay", help="write a saved run's snapshots of its network as PNG pictures")
    replay.add_argument("name")
    replay.add_argument("--out", required=True, metavar="DIR", help="folder to write the pictures into")

    sweep = commands.add_parser("sweep", help="race 2-4 values of one setting, all training at once")
    sweep.add_argument("--model", choices=MODEL_KINDS, default="mlp", help="kind of network (default: mlp)")
    sweep.add_argument("--vary", required=True, metavar="SETTING=V1,V2[,...]",
                       help="the setting and its 2-4 values, e.g. batch_size=32,256,1024; one of model, epochs, "
                       "batch_size, learning_rate, hidden_units, dropout, augment")
    _add_settings(sweep, ", for every run")
    sweep.add_argument("--name", help="prefix of the runs' names (default: sweep and the time)")
    sweep.add_argument("--ray", metavar="ADDRESS", help="train on this Ray cluster (default: $DIGITS_RAY_ADDRESS)")
    sweep.add_argument("--json", action="store_true", help="print the race's results as one JSON object")

    evaluate = commands.add_parser("evaluate", help="score a saved run on the MNIST test digits")
    evaluate.add_argument("name")
    evaluate.add_argument("--json", action="store_true")

    listing = commands.add_parser("list", help="list saved runs")
    listing.add_argument("--json", action="store_true")

    delete = commands.add_parser("delete", help="delete a saved run")
    delete.add_argument("name")

    predict = commands.add_parser("predict", help="read the digit in image files")
    predict.add_argument("--model", required=True, help="name of a saved run")
    predict.add_argument("--json", action="store_true", help="one JSON object per image")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    explain = commands.add_parser("explain", help="show which pixels made the model read each digit")
    explain.add_argument("--model", required=True, help="name of a saved run")
    explain.add_argument("--json", action="store_true",
                         help="one JSON object per image: digit, confidence, the 28x28 input and saliency")
    explain.add_argument("--out", metavar="DIR", help="write each digit's heat map as a PNG into DIR")
    explain.add_argument("images", nargs="+", metavar="IMAGE")

    teach = commands.add_parser("teach", help="teach a saved model your handwriting from saved drawings")
    teach.add_argument("--model", required=True, help="name of the saved run to start from")
    teach.add_argument("--drawings", required=True, help="folder of drawings saved by the Draw page (PNG + JSON)")
    teach.add_argument("--name", help="name of the new run (default: MODEL-taught-N)")
    teach.add_argument("--json", action="store_true", help="print the run record as one JSON object")
    teach.add_argument("--ray", metavar="ADDRESS", help="teach on this Ray cluster (default: $DIGITS_RAY_ADDRESS, "
                       "else on this machine)")

    build = commands.add_parser("build-default", help="train the model that ships in assets/default")
    build.add_argument("--drawn-data", help="UNIPEN digits file (default: $DIGITS_DRAWN_DATA)")
    build.add_argument("--letters", required=True, help="UNIPEN letters file, e.g. unipen_letters_dev.json.gz")
    build.add_argument("--doodles", help="Quick, Draw! doodles file, e.g. quickdraw_dev.json.gz (default: "
                       "$DIGITS_QUICKDRAW_DATA, else the few hundred shipped in assets/quickdraw)")
    build.add_argument("--base", help="a saved 10-output run to start from: only learn what is not a digit; a run "
                       "with the \"not a digit\" output: only calibrate and measure it again")
    build.add_argument("--average-with", nargs="+", default=[], metavar="RUN",
                       help="saved runs with the \"not a digit\" output, second stages of the same first stage: "
                       "the model shipped averages their weights with the new one's")
    build.add_argument("--epochs", type=int, help="override the recipe's epochs (for a quick trial)")
    build.add_argument("--output", default=str(BUILTIN_DEFAULT_DIR), help="folder to replace (default: %(default)s)")
    return parser


COMMANDS = {
    "train": command_train,
    "sweep": command_sweep,
    "evaluate": command_evaluate,
    "list": command_list,
    "delete": command_delete,
    "predict": command_predict,
    "explain": command_explain,
    "build-default": command_build_default,
    "teach": command_teach,
    "replay": command_replay,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args, ModelStore())
    except (UsageError, InvalidSetting, StoreError, InvalidComputeDtype) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (DataError, EngineUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
