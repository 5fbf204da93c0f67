"""python -m digits explain: the fields the issue asks for, several digits, PNGs, plain text and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digits.cli import main
from digits.data import Mnist
from digits.explain import deletion_drops
from digits.predict import make_predictor
from digits.store import ModelStore


def explain_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["explain", "--model", "default", "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def save(path: Path, image: np.ndarray) -> str:
    Image.fromarray(image).save(path)
    return str(path)


def test_one_json_line_per_image_with_input_and_saliency(tmp_path: Path, sample: Mnist,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    paths = [save(tmp_path / f"digit{i}.png", sample.x_test[i]) for i in range(20)]
    lines = explain_json(capsys, *paths)
    assert [line["path"] for line in lines] == paths
    for line, label in zip(lines, sample.y_test[:20], strict=True):
        assert line["digit"] == label and 0.5 < line["confidence"] <= 1
        image, saliency = np.array(line["input"]), np.array(line["saliency"])
        assert image.shape == saliency.shape == (28, 28)
        assert image.dtype.kind == "i" and image.min() >= 0 and image.max() == 255
        assert saliency.min() >= 0 and saliency.max() > 0
        assert not saliency[image == 0].any()  # only ink can push
        assert len(line["digits"]) == 1 and line["digits"][0]["digit"] == line["digit"]
    # The maps pass the deletion test the issue sets, on the inputs the command reports.
    images = np.array([line["input"] for line in lines], dtype=np.uint8)
    drops = deletion_drops(make_predictor(ModelStore().load("default")), images,
                           np.array([line["saliency"] for line in lines]))
    assert drops.versus_random >= 5 and drops.versus_brightest >= 2


def test_a_number_is_explained_per_digit_and_a_blank_image_has_none(tmp_path: Path, sample: Mnist,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    number = save(tmp_path / "number.png", np.concatenate([sample.x_test[1], sample.x_test[2]], axis=1))
    blank = save(tmp_path / "blank.png", np.zeros((28, 28), dtype=np.uint8))
    number_line, blank_line = explain_json(capsys, number, blank)
    assert [part["digit"] for part in number_line["digits"]] == list(sample.y_test[1:3])
    assert number_line["digit"] is None and number_line["saliency"] is None
    assert all(np.array(part["saliency"]).shape == (28, 28) for part in number_line["digits"])
    assert blank_line["message"] == "no digit" and blank_line["digits"] == [] and blank_line["digit"] is None


def test_plain_output_draws_the_map_as_text_or_writes_pngs(tmp_path: Path, sample: Mnist,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = save(tmp_path / "seven.png", sample.x_test[0])  # a 7
    assert main(["explain", "--model", "default", path]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: 7 (")
    drawing = out.splitlines()[1:]
    assert len(drawing) == 28 and "##" in out and ".." in out
    assert main(["explain", "--model", "default", "--out", str(tmp_path / "maps"), path]) == 0
    written = tmp_path / "maps" / "seven-saliency.png"
    assert f"wrote {written}" in capsys.readouterr().out
    with Image.open(written) as png:
        assert png.size == (280, 280) and png.mode == "RGB"


def test_bad_input_exits_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--model", "default", str(tmp_path / "missing.png")]) == 2
    assert "could not be opened" in capsys.readouterr().err
    (tmp_path / "text.png").write_text("not an image")
    assert main(["explain", "--model", "default", str(tmp_path / "text.png")]) == 2
    assert "PNG or JPEG" in capsys.readouterr().err
    image = save(tmp_path / "zero.png", np.zeros((28, 28), dtype=np.uint8))
    assert main(["explain", "--model", "no-such-run", image]) == 2
    assert "no-such-run" in capsys.readouterr().err
