"""The CLI: `train` keeps snapshots unless told not to, and `replay` writes them as PNG pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digits.cli import main


@pytest.fixture
def cli_env(sample_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DIGITS_DATA_DIR", str(sample_data_dir))
    return sample_data_dir


def test_replay_writes_every_snapshot_s_pictures(cli_env: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--epochs", "2", "--batch-size", "100", "--name", "watched"]) == 0
    capsys.readouterr()
    out = tmp_path / "pictures"
    assert main(["replay", "watched", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    count = len(lines)
    assert count == 6 and lines[0].startswith("00 before training") and "after 18 batches" in lines[-1]
    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(f"{index:02d}-{part}.png" for index in range(count)
                           for part in ("strip", "map", "patterns", "units"))
    first, last = (np.asarray(Image.open(out / f"{index:02d}-patterns.png")) for index in (0, count - 1))
    assert first.shape == last.shape and not np.array_equal(first, last)  # the patterns changed as it learned


def test_no_snapshots_keeps_none_and_replay_says_so(cli_env: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--epochs", "1", "--batch-size", "200", "--name", "plain", "--no-snapshots"]) == 0
    capsys.readouterr()
    assert main(["replay", "plain", "--out", str(tmp_path / "none")]) == 2
    assert "has no snapshots" in capsys.readouterr().err
    assert main(["replay", "nobody", "--out", str(tmp_path / "none")]) == 2
    assert "No run is named 'nobody'" in capsys.readouterr().err
