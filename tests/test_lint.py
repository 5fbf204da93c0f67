"""The code style is part of the test suite, so `python -m pytest` is the one command to pass."""

from __future__ import annotations

import subprocess
import sys

from conftest import PROJECT_ROOT


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=PROJECT_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_library_never_imports_streamlit() -> None:
    code = "import sys, digits.cli, digits.evaluation, digits.training, digits.store; print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
