"""Teaching a model someone's handwriting: the reader of saved drawings, styles, the task, the CLI."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import SHARED_DATA, as_canvas
from digits.cli import main
from digits.data import Mnist
from digits.feedback import save_drawing
from digits.predict import make_predictor
from digits.store import DEFAULT_RUN, ModelStore
from digits.styles import apply_style, infer_styles
from digits.teach import (
    Drawings,
    TeachError,
    missing_digits,
    read_drawings,
    split_held_out,
    taught_name,
)

MIRRORED_DIGITS = (2, 3, 4, 5, 6, 7, 9)  # digits that look different mirrored


def mirrored_child_drawings(sample: Mnist, per_digit: int) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test digits of MIRRORED_DIGITS, mirrored: how a child might write them."""
    rows = [row for digit in MIRRORED_DIGITS for row in np.flatnonzero(sample.y_test == digit)[:per_digit]]
    return sample.x_test[rows][:, :, ::-1], sample.y_test[rows]


def save_all(directory: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    for image, label in zip(images, labels, strict=True):
        save_drawing(directory, as_canvas(image), str(label), "", "test")
    return directory


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory, sample: Mnist) -> tuple[Path, Path, Path, dict]:
    """The default model taught a mirroring child's drawings through the CLI (a real job in its own
    process): the store, the drawings folder, the data folder and the printed run record."""
    store = tmp_path_factory.mktemp("teach-models")
    drawings = save_all(tmp_path_factory.mktemp("teach-drawings"), *mirrored_child_drawings(sample, 2))
    data = tmp_path_factory.mktemp("teach-data")
    np.savez(data / "mnist.npz", x_train=sample.x_train, y_train=sample.y_train,
             x_test=sample.x_test, y_test=sample.y_test)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIGITS_MODELS_DIR", str(store))
        patch.setenv("DIGITS_DATA_DIR", str(data))
        patch.delenv("DIGITS_DRAWN_DATA", raising=False)
        output = _run_cli(["teach", "--model", DEFAULT_RUN, "--drawings", str(drawings), "--json"])
    return store, drawings, data, json.loads(output)


def _run_cli(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue()


def test_teaching_changes_the_answers_on_the_drawings(taught: tuple[Path, Path, Path, dict]) -> None:
    store_dir, drawings_dir, _, record = taught
    drawings = read_drawings(drawings_dir)
    before = make_predictor(ModelStore(store_dir).load(DEFAULT_RUN))(drawings.images).argmax(axis=1)
    after = make_predictor(ModelStore(store_dir).load(record["name"]))(drawings.images).argmax(axis=1)
    assert (before != drawings.labels).sum() >= 4, "the default model should misread several mirrored digits"
    assert (after == drawings.labels).mean() >= 0.9
    assert (after != before).sum() >= 4
    assert record["taught"]["before"]["yours"] < record["taught"]["after"]["yours"]


def test_a_taught_run_is_a_run_like_any_other(taught: tuple[Path, Path, Path, dict],
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    store_dir, _, data_dir, record = taught
    assert record["name"] == "default-taught-1"
    taught_record = record["taught"]
    assert taught_record["from"] == DEFAULT_RUN and taught_record["drawings"] == 14
    assert not taught_record["held_out"]  # 2 of each digit are too few to hold any back
    assert set(taught_record["before"]) == set(taught_record["after"]) >= {"yours", "mnist"}
    assert 0.9 < record["test"]["accuracy"] <= 1.0
    monkeypatch.setenv("DIGITS_MODELS_DIR", str(store_dir))
    monkeypatch.setenv("DIGITS_DATA_DIR", str(data_dir))
    store = ModelStore()
    assert store.record(record["name"]).taught == taught_record
    assert record["name"] in [run.name for run in store.list()]
    assert taught_name(store, record["name"]) == "default-taught-2"
    assert main(["evaluate", record["name"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 500
    assert main(["delete", record["name"]]) == 0
    assert not store.exists(record["name"])


@pytest.mark.parametrize(("label", "message"), [("seven", "must be a digit"), ("", "must be a digit")])
def test_a_label_that_is_not_a_digit_is_refused(tmp_path: Path, label: str, message: str) -> None:
    save_drawing(tmp_path, as_canvas(np.full((28, 28), 255, np.uint8)), "1", "", "test")
    record = next(tmp_path.glob("*.json"))
    record.write_text(json.dumps({**json.loads(record.read_text()), "label": label}))
    with pytest.raises(TeachError, match=message):
        read_drawings(tmp_path)


def test_missing_empty_and_unreadable_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TeachError, match="not a folder"):
        read_drawings(tmp_path / "nowhere")
    with pytest.raises(TeachError, match="no saved drawings"):
        read_drawings(tmp_path)
    (tmp_path / "a.json").write_text(json.dumps({"label": "3"}))
    (tmp_path / "a.png").write_bytes(b"not a png")
    with pytest.raises(TeachError, match=r"a\.json \(or its PNG\) cannot be read"):
        read_drawings(tmp_path)


def test_cli_errors_are_clear(tmp_path: Path, sample: Mnist, sample_data_dir: Path,
                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))
    tmp_path = tmp_path / "drawings"
    tmp_path.mkdir()
    assert main(["teach", "--model", DEFAULT_RUN, "--drawings", str(tmp_path)]) == 2
    assert "no saved drawings" in capsys.readouterr().err
    save_all(tmp_path, *mirrored_child_drawings(sample, 1))
    assert main(["teach", "--model", DEFAULT_RUN, "--drawings", str(tmp_path)]) == 2
    assert "Only 7 usable drawing(s): teaching needs at least 10" in capsys.readouterr().err
    save_all(tmp_path, *mirrored_child_drawings(sample, 1))
    assert main(["teach", "--model", "no-such-run", "--drawings", str(tmp_path)]) == 2
    assert "No run is named 'no-such-run'" in capsys.readouterr().err


def test_numbers_give_one_drawing_per_digit_and_blank_ones_are_skipped(tmp_path: Path, sample: Mnist) -> None:
    three, one = (sample.x_test[np.flatnonzero(sample.y_test == d)[0]] for d in (3, 1))
    canvas = as_canvas(np.zeros((28, 28), np.uint8))
    for image, left in ((three, 10), (one, 150)):  # side by side, as a person writes "31"
        canvas[80:200, left:left + 120, :3] = np.asarray(Image.fromarray(image).resize((120, 120)))[..., np.newaxis]
    save_drawing(tmp_path, canvas, "31", "", "test")
    save_drawing(tmp_path, as_canvas(np.zeros((28, 28), np.uint8)), "5", "", "test")
    drawings = read_drawings(tmp_path)
    assert drawings.labels.tolist() == [3, 1]
    assert len(drawings.skipped) == 1
    assert missing_digits(drawings) == [0, 2, 4, 5, 6, 7, 8, 9]


def test_held_out_drawings_only_when_there_are_enough() -> None:
    few = Drawings(np.zeros((50, 28, 28), np.uint8), np.repeat(np.arange(10), 5).astype(np.uint8))
    assert split_held_out(few)[1] is None
    many = Drawings(np.zeros((100, 28, 28), np.uint8), np.repeat(np.arange(10), 10).astype(np.uint8))
    taught, held_out = split_held_out(many)
    assert held_out is not None and held_out.counts() == [2] * 10 and taught.counts() == [8] * 10


def test_mirrored_digits_are_recognised_as_mirrored(sample: Mnist) -> None:
    images, labels = mirrored_child_drawings(sample, 3)
    styles = infer_styles(make_predictor(ModelStore().load(DEFAULT_RUN)), images, labels)
    assert sum(style == "mirrored" for style in styles.values()) >= 4
    assert set(styles) <= set(MIRRORED_DIGITS)
    unmirrored = apply_style(images, "mirrored")[:, :, ::-1].reshape(len(images), -1).astype(float)
    correlations = [np.corrcoef(a, b)[0, 1] for a, b in zip(unmirrored, images.reshape(len(images), -1), strict=True)]
    assert min(correlations) > 0.7  # the same digit, mirrored (prepared again, so moved by a pixel or so)


@pytest.mark.skipif(not (SHARED_DATA / "unipen" / "unipen_digits_dev.json.gz").is_file(), reason="no UNIPEN data")
def test_simulated_people_save_drawings_teach_can_read(tmp_path: Path) -> None:
    from digits.people import PEOPLE, pick_per_digit, save_as_drawings, split_writers
    from digits.unipen import load_drawn_digits

    mine, others = split_writers(load_drawn_digits(SHARED_DATA / "unipen" / "unipen_digits_dev.json.gz"))
    assert not {d.writer for d in mine} & {d.writer for d in others}
    (picked,) = pick_per_digit(mine, (2,), seed=0)
    for person in PEOPLE:
        written = [person.writes(digit) for digit in picked]
        assert all(0 <= v <= 1000 for d in written for stroke in d.strokes for point in stroke for v in point)
        save_as_drawings(tmp_path / person.name, written, seed=0)
        assert read_drawings(tmp_path / person.name).counts() == [2] * 10


def test_a_model_with_a_not_a_digit_output_keeps_it(sample: Mnist) -> None:
    import keras

    from digits.teach import TeachSettings, prepare_lesson, replay_digits, teach

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(11, activation="softmax")])
    images, labels = mirrored_child_drawings(sample, 2)
    drawings = Drawings(images, labels)
    settings = TeachSettings(epochs=3, styled_per_digit=50)
    lesson = prepare_lesson(model, drawings, replay_digits(sample, seed=0), settings)
    taught = teach(model, lesson, settings).model
    assert taught.output_shape == (None, 11)
    before = (make_predictor(model)(images).argmax(axis=1) == labels).mean()
    after = (make_predictor(taught)(images).argmax(axis=1) == labels).mean()
    assert after >= before + 0.3  # an untrained model, so it learns from the drawings alone
