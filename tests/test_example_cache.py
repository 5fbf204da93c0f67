"""The cache of rendered training examples: a second run with the same settings reads what the first drew, and
the cache never costs a run anything but time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digits.example_cache import CACHE_DIR_ENV, cache_dir, examples_key, load_or_render


class Renderer:
    """Stands in for a slow rendering: counts its calls, returns images made from ``value``."""

    def __init__(self, value: int) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        return np.full((3, 28, 28), self.value, np.uint8), np.full(3, 10, np.uint8)


def test_the_second_call_reads_what_the_first_drew(tmp_path: Path) -> None:
    render = Renderer(7)
    first = load_or_render("examples", "k1", render, tmp_path)
    second = load_or_render("examples", "k1", render, tmp_path)
    assert render.calls == 1
    for drawn, read in zip(first, second, strict=True):
        np.testing.assert_array_equal(drawn, read)
    assert [path.name for path in tmp_path.iterdir()] == ["examples-k1.npz"]  # no partial file left


def test_a_new_key_draws_again_and_replaces_the_old_file(tmp_path: Path) -> None:
    load_or_render("examples", "k1", Renderer(1), tmp_path)
    render = Renderer(2)
    images, _ = load_or_render("examples", "k2", render, tmp_path)
    assert render.calls == 1 and images[0, 0, 0] == 2
    assert [path.name for path in tmp_path.iterdir()] == ["examples-k2.npz"]


def test_a_damaged_file_is_drawn_again(tmp_path: Path) -> None:
    (tmp_path / "examples-k1.npz").write_bytes(b"not an npz file")
    render = Renderer(3)
    images, labels = load_or_render("examples", "k1", render, tmp_path)
    assert render.calls == 1 and images.shape == (3, 28, 28) and labels.tolist() == [10, 10, 10]
    assert load_or_render("examples", "k1", render, tmp_path)[0][0, 0, 0] == 3 and render.calls == 1


def test_a_folder_that_cannot_be_written_costs_only_time(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("")
    render = Renderer(4)
    images, _ = load_or_render("examples", "k1", render, blocked)
    assert images[0, 0, 0] == 4
    load_or_render("examples", "k1", render, blocked)
    assert render.calls == 2


def test_the_key_follows_the_settings_and_every_input_file(tmp_path: Path) -> None:
    code, data = tmp_path / "code.py", tmp_path / "data.json"
    code.write_text("PEN = 18\n")
    data.write_text("[]")
    key = examples_key({"seed": 0}, [code, data])
    assert key == examples_key({"seed": 0}, [code, data])
    assert key != examples_key({"seed": 1}, [code, data])
    code.write_text("PEN = 19\n")
    assert key != examples_key({"seed": 0}, [code, data])


def test_the_folder_is_the_environments_else_the_users_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv(CACHE_DIR_ENV)
    assert cache_dir() == Path.home() / ".cache" / "digits"
