"""Refresh the README's pictures from the browser tests: run the tests that take them, then copy the shots.

    python docs/screenshots.py

Needs what the browser tests need (Debian's chromium; full MNIST through DIGITS_DATA_DIR for a realistic
Train page). The tests save every screenshot in test-artifacts/; the README shows four of them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
# README picture -> the test screenshot it is.
SHOTS = {"draw.png": "draw-digit.png", "train.png": "train-running.png", "evaluate.png": "evaluate.png",
         "inside.png": "inside-panel.png", "phone.png": "touch-draw-iPhone-13.png"}
TESTS = ["tests/test_browser.py", "tests/test_inside_browser.py", "tests/test_touch_browser.py", "-k",
         "draw_reads or train_live or evaluate_shows or watch_it_learn or (finger and iPhone)"]


def main() -> int:
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS], cwd=ROOT)
    if result.returncode != 0:
        print("The browser tests failed: the README's pictures were left as they were.", file=sys.stderr)
        return result.returncode
    for picture, shot in SHOTS.items():
        shutil.copyfile(ARTIFACTS / shot, ROOT / "docs" / picture)
        print(f"docs/{picture} <- test-artifacts/{shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
