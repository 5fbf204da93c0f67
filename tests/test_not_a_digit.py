"""The three outcomes of a reading (digits, not a digit, no ink), with tiny hand-built models of known answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import hand_built, save_hand_built
from digits.cli import main
from digits.drawn_sets import read_right, read_sample, rejected, render_sample
from digits.feedback import NOT_A_DIGIT_ANSWER, FeedbackError, load_drawings, parse_answer, save_drawing
from digits.non_digits import calibrate_on_validation, score_samples
from digits.predict import (
    NOT_A_DIGIT,
    OUTPUT_THRESHOLD,
    Decision,
    Outcome,
    calibrate_threshold,
    digit_scores,
    is_digit,
    make_predictor,
    model_decision,
    outcome_of,
    read_digits,
    to_predictions,
)
from digits.store import ModelStore

SIZE = 28
ONE = 1


def bar(vertical: bool) -> np.ndarray:
    """A 28x28 uint8 image of a bar as MNIST-style preprocessing leaves one: centred, 20 pixels long."""
    image = np.zeros((SIZE, SIZE), np.uint8)
    image[4:24, 12:16] = 255
    return image if vertical else image.T.copy()


@pytest.fixture(scope="module")
def eleven():
    return hand_built(NOT_A_DIGIT + 1)


@pytest.fixture(scope="module")
def ten():
    return hand_built(NOT_A_DIGIT)


def test_an_eleventh_output_decides_digit_or_not(eleven) -> None:
    predictor = make_predictor(eleven)
    decision = model_decision(eleven)
    assert decision == Decision("output", OUTPUT_THRESHOLD)
    digit = read_digits(predictor, [bar(vertical=True)], decision)
    assert digit is not None and digit.outcome is Outcome.DIGIT
    assert digit.text == digit.number == "1" and digit.predictions[0].is_digit
    other = read_digits(predictor, [bar(vertical=False)], decision)
    assert other is not None and other.outcome is Outcome.NOT_A_DIGIT
    assert other.text == "?" and other.number is None
    part = other.predictions[0]
    assert not part.is_digit and part.digit_score < 0.01
    assert sum(part.probabilities) == pytest.approx(1.0) and len(part.probabilities) == 10  # bars over 0..9


def test_a_number_with_one_part_that_is_not_a_digit_is_not_a_number(eleven) -> None:
    images = [bar(vertical=True), bar(vertical=False), bar(vertical=True)]
    reading = read_digits(make_predictor(eleven), images)  # the decision defaults to the model's own output
    assert reading is not None
    assert reading.text == "1?1" and reading.number is None and reading.outcome is Outcome.NOT_A_DIGIT
    assert reading.closest[0] == reading.closest[2] == "1" and len(reading.closest) == 3
    assert [p.is_digit for p in reading.predictions] == [True, False, True]
    number = read_digits(make_predictor(eleven), [bar(vertical=True)] * 2)
    assert number is not None and number.number == "11" and number.outcome is Outcome.DIGIT


def test_no_ink_is_its_own_outcome(eleven) -> None:
    assert read_digits(make_predictor(eleven), []) is None
    assert outcome_of(None) is Outcome.NO_INK


def test_a_ten_output_model_decides_by_its_calibrated_threshold(ten) -> None:
    predictor = make_predictor(ten)
    unsure = predictor(bar(vertical=False))
    assert unsure.shape == (1, 10) and unsure.max() < 0.25  # spread over 5..9
    never = model_decision(ten)  # nothing saved: a model from before never rejects
    assert never == Decision("threshold", 0.0)
    assert read_digits(predictor, [bar(vertical=False)], never).outcome is Outcome.DIGIT
    saved = model_decision(ten, {"method": "threshold", "threshold": 0.9})
    assert saved.threshold == 0.9
    assert read_digits(predictor, [bar(vertical=False)], saved).outcome is Outcome.NOT_A_DIGIT
    assert read_digits(predictor, [bar(vertical=True)], saved).text == "1"


def test_a_saved_decision_of_the_other_kind_is_ignored() -> None:
    # A threshold calibrated for max probability means nothing for an 11th output, and the other way round.
    assert Decision.for_model(11, {"method": "threshold", "threshold": 0.97}) == Decision("output", OUTPUT_THRESHOLD)
    assert Decision.for_model(10, {"method": "output", "threshold": 0.5}) == Decision("threshold", 0.0)
    assert Decision.for_model(10, {"method": "threshold", "threshold": "high"}) == Decision("threshold", 0.0)


def test_calibration_lets_99_percent_of_the_validation_digits_pass() -> None:
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.full(10, 0.3), size=1000)
    decision = calibrate_threshold(probabilities)
    passing = (digit_scores(probabilities) >= decision.threshold).mean()
    assert decision.method == "threshold" and 0.99 <= passing <= 0.992
    # With an 11th output the score is 1 minus that output: the least digit-like 0.3% fail.
    not_a_digit = np.linspace(0, 1, 1000)[:, np.newaxis]
    decision = calibrate_threshold(np.hstack([probabilities * (1 - not_a_digit), not_a_digit]), 0.997)
    assert decision == Decision("output", pytest.approx(0.003, abs=0.001))


def test_predictions_from_eleven_outputs_show_the_closest_digit() -> None:
    row = np.array([[0.05, 0.0, 0.0, 0.0, 0.15, 0.0, 0.0, 0.0, 0.0, 0.0, 0.8]])
    (prediction,) = to_predictions(row)
    assert prediction.digit == 4 and not prediction.is_digit and prediction.text == "?"
    assert prediction.confidence == pytest.approx(0.75) and prediction.digit_score == pytest.approx(0.2)
    assert prediction.to_dict()["is_digit"] is False
    (plain,) = to_predictions(np.eye(10)[[7]])
    assert plain.digit == 7 and plain.is_digit and plain.text == "7"


def paper(bars: list[tuple[int, int, int, int]], path: Path) -> str:
    """Dark ink bars (left, top, right, bottom) on a white 400x200 picture, saved as a PNG."""
    image = Image.new("L", (400, 200), 255)
    draw = ImageDraw.Draw(image)
    for box in bars:
        draw.rectangle(box, fill=0)
    image.save(path)
    return str(path)


def test_cli_predict_says_not_a_digit_and_keeps_the_guesses(isolated_store: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    save_hand_built(isolated_store, "knows", NOT_A_DIGIT + 1)
    one = paper([(190, 30, 205, 170)], tmp_path / "one.png")
    dash = paper([(130, 95, 270, 108)], tmp_path / "dash.png")
    # A 1, a dash far from both (so it is a part of its own), and a 1: not a number.
    mixed = paper([(30, 30, 45, 170), (130, 95, 270, 108), (355, 30, 370, 170)], tmp_path / "mixed.png")
    blank = paper([], tmp_path / "blank.png")
    assert main(["predict", "--model", "knows", "--json", one, dash, mixed, blank]) == 0
    one_json, dash_json, mixed_json, blank_json = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert one_json["digit"] == 1 and one_json["number"] == "1" and "message" not in one_json
    assert dash_json["digit"] is None and dash_json["number"] is None and dash_json["message"] == "not a digit"
    assert len(dash_json["probabilities"]) == 10 and dash_json["is_digit"] is False
    assert [part["is_digit"] for part in dash_json["digits"]] == [False]
    assert 0 <= dash_json["digits"][0]["digit"] <= 9  # the closest digit is still there
    assert mixed_json["number"] is None and mixed_json["message"] == "not a digit"
    assert [part["is_digit"] for part in mixed_json["digits"]] == [True, False, True]
    assert [part["digit"] for part in mixed_json["digits"]][::2] == [1, 1]
    assert blank_json["message"] == "no digit" and blank_json["digits"] == []

    assert main(["predict", "--model", "knows", one, dash, mixed, blank]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{one}: 1 (") and lines[0].endswith("% sure)")
    assert lines[1].startswith(f"{dash}: not a digit; closest: ")
    assert lines[2].startswith(f"{mixed}: not a number (1?1); closest: 1")
    assert lines[3] == f"{blank}: no digit"


def test_cli_predict_uses_the_threshold_saved_with_a_ten_output_model(
        isolated_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_hand_built(isolated_store, "calibrated", NOT_A_DIGIT, {"method": "threshold", "threshold": 0.9})
    save_hand_built(isolated_store, "old", NOT_A_DIGIT)  # saved before thresholds: always guesses
    dash = paper([(130, 95, 270, 108)], tmp_path / "dash.png")
    assert main(["predict", "--model", "calibrated", "--json", dash]) == 0
    assert json.loads(capsys.readouterr().out)["message"] == "not a digit"
    assert main(["predict", "--model", "old", "--json", dash]) == 0
    assert "message" not in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("typed", "saved"), [
    ("not a digit", NOT_A_DIGIT_ANSWER), (" Not  A Digit ", NOT_A_DIGIT_ANSWER), ("none", NOT_A_DIGIT_ANSWER),
    ("?", NOT_A_DIGIT_ANSWER), ("42", "42"),
])
def test_not_a_digit_is_an_answer_people_can_give(tmp_path: Path, typed: str, saved: str) -> None:
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    record = save_drawing(tmp_path, canvas, typed, NOT_A_DIGIT_ANSWER, "default")
    assert record.label == saved and record.right == (saved == NOT_A_DIGIT_ANSWER)
    assert [drawing.label for drawing in load_drawings(tmp_path)] == [saved]
    with pytest.raises(FeedbackError, match="not a digit"):
        parse_answer("a star")


def test_drawings_are_read_and_scored_as_the_draw_page_reads_them(eleven) -> None:
    upright = (((500, 0), (500, 1000)),)  # drawn anywhere on the canvas and preprocessed: read as 1
    flat = (((0, 500), (1000, 500)),)  # not a digit to the hand-built model
    number_with_a_dash = (((0, 0), (0, 1000)), ((380, 500), (620, 500)), ((1000, 0), (1000, 1000)))
    sample = render_sample([upright, flat, number_with_a_dash, upright], ["1", "dash", "1-1", "7"], seed=0)
    assert [len(parts) for parts in sample.parts] == [1, 1, 3, 1]
    readings = read_sample(make_predictor(eleven), sample, model_decision(eleven))
    assert [reading.answer for reading in readings] == ["1", "not a digit", "not a digit", "1"]
    assert readings[2].text == "1?1"
    assert rejected(readings).tolist() == [False, True, True, False]
    assert read_right(readings, sample.labels).tolist() == [True, False, False, False]  # the "7" read as 1 is wrong
    assert rejected([None]).tolist() == [True]  # no ink found is not a digit read either
    scores = score_samples(make_predictor(eleven), model_decision(eleven), sample, sample, sample)
    assert scores.digits_right == 0.25 and scores.letters_rejected == scores.doodles_rejected == 0.5


def test_runs_are_calibrated_on_their_own_validation_digits(sample) -> None:
    from digits.evaluation import predict_probabilities
    from digits.models import default_hyperparameters
    from digits.training import split_validation, train

    hp = default_hyperparameters("mlp", epochs=2, batch_size=64)
    model = train(hp, sample).model
    decision = calibrate_on_validation(model, sample, hp.validation_split)
    validation = split_validation(sample, hp.validation_split)[2]
    passing = is_digit(predict_probabilities(model, validation), decision)
    assert decision.method == "threshold" and 0 < decision.threshold < 1
    assert 0.99 <= passing.mean() < 1.0  # 99 of its 100 validation digits pass: the least sure one does not
    assert calibrate_on_validation(model, sample, 0.0) == Decision("threshold", 0.0)  # nothing to calibrate on


def test_the_eleventh_output_starts_silent_and_learns(ten, sample) -> None:
    from digits.default_model import learn_not_a_digit, with_not_a_digit_output

    extended = with_not_a_digit_output(ten)
    assert extended.output_shape[-1] == NOT_A_DIGIT + 1 and ten.output_shape[-1] == NOT_A_DIGIT
    images = np.stack([bar(vertical=True), bar(vertical=False)])
    before, after = make_predictor(ten)(images), make_predictor(extended)(images)
    assert after[0, ONE] > 0.98 and after[0, NOT_A_DIGIT] < 0.02  # reads the 1 as before, sure it is a digit
    np.testing.assert_allclose(after[:, :NOT_A_DIGIT] / after[:, :NOT_A_DIGIT].sum(axis=1, keepdims=True), before,
                               rtol=1e-4)

    # A model that learned the sample's digits, taught that dashes are not digits, says so, and still reads.
    from digits.models import default_hyperparameters
    from digits.training import train

    reader = train(default_hyperparameters("mlp", epochs=3), sample).model
    dashes = np.repeat(bar(vertical=False)[np.newaxis], 300, axis=0)
    x = np.concatenate([sample.x_train, dashes])
    y = np.concatenate([sample.y_train, np.full(len(dashes), NOT_A_DIGIT, np.uint8)])
    taught = make_predictor(learn_not_a_digit(reader, x, y, seed=0, epochs=10))
    decision = Decision("output", OUTPUT_THRESHOLD)
    assert not is_digit(taught(bar(vertical=False)), decision)[0]
    test = taught(sample.x_test)
    assert (test[:, :NOT_A_DIGIT].argmax(axis=1) == sample.y_test).mean() > 0.8
    assert is_digit(test, decision).mean() > 0.95


def test_models_of_the_same_layers_average_their_weights() -> None:
    from digits.default_model import averaged

    first, second = hand_built(NOT_A_DIGIT + 1), hand_built(NOT_A_DIGIT + 1)
    weights, bias = first.layers[-1].get_weights()
    second.layers[-1].set_weights([weights * 3, np.ones_like(bias)])
    mean = averaged([first, second])
    assert mean is first  # the first, its weights replaced
    averaged_weights, averaged_bias = mean.layers[-1].get_weights()
    np.testing.assert_array_equal(averaged_weights, weights * 2)
    np.testing.assert_array_equal(averaged_bias, np.full_like(bias, 0.5))
    assert averaged_weights.dtype == weights.dtype
    with pytest.raises(ValueError, match="same layers"):
        averaged([hand_built(NOT_A_DIGIT + 1), hand_built(NOT_A_DIGIT)])


def test_a_run_trained_as_the_train_page_does_saves_its_calibrated_threshold() -> None:
    from conftest import load_sample
    from digits.background.engine_local import LocalJob
    from digits.background.tasks import TrainTask
    from digits.models import default_hyperparameters

    job = LocalJob(TrainTask(default_hyperparameters("mlp", epochs=1, batch_size=100), "calibrated-run", load_sample),
                   ModelStore()).start()
    assert job.wait(300) and job.snapshot().status == "finished", job.snapshot().error
    saved = ModelStore().record("calibrated-run").not_a_digit
    assert saved["method"] == "threshold" and 0 < saved["threshold"] < 1
    assert model_decision(ModelStore().load("calibrated-run"), saved) == Decision("threshold", saved["threshold"])


def test_a_run_that_learned_what_is_not_a_digit_rejects_doodles_of_kinds_it_never_saw() -> None:
    from conftest import load_sample
    from digits.background.engine_local import LocalJob
    from digits.background.tasks import TrainTask
    from digits.doodles import HELD_OUT_KINDS, make_doodles
    from digits.models import default_hyperparameters

    doodles = make_doodles(HELD_OUT_KINDS, 20, seed=99)
    unseen = render_sample([doodle.strokes for doodle in doodles], [doodle.kind for doodle in doodles])
    sample = load_sample()
    shares = {}
    for learns in (False, True):
        name = f"learns-{learns}"
        hp = default_hyperparameters("mlp", epochs=3, batch_size=32, not_a_digit=learns)
        job = LocalJob(TrainTask(hp, name, load_sample), ModelStore()).start()
        assert job.wait(300) and job.snapshot().status == "finished", job.snapshot().error
        model, record = ModelStore().load(name), ModelStore().record(name)
        decision = model_decision(model, record.not_a_digit)
        assert decision.method == ("output" if learns else "threshold") and record.hp.not_a_digit is learns
        # It learned from thousands of doodles besides the sample's 900 training digits (1,000 less validation).
        learned_from = job.snapshot().metrics.total_examples // hp.epochs
        assert (learned_from > 900 + 5000) is learns
        shares[learns] = rejected(read_sample(make_predictor(model), unseen, decision)).mean()
        right = (make_predictor(model)(sample.x_test)[:, :NOT_A_DIGIT].argmax(axis=1) == sample.y_test).mean()
        assert right > 0.8  # it still reads the digits it was taught on: 1,000 training digits
    print(f"held-out doodle kinds rejected: {shares}")
    assert shares[True] > 0.8 and shares[True] > shares[False] + 0.3
