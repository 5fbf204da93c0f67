"""Rendered training examples kept on disk, so a run that learns what is not a digit starts at once the second
time: drawing its thousands of doodles through the canvas path costs about 50 s on a 2-core machine, and with the
same settings it draws the same images every time.

A file is named by a key over everything the images depend on: the settings, the source of the modules that draw
and prepare them, and the shipped drawings. Any change to one of those is a new key, so no file is ever read for
images drawn otherwise. The cache only ever saves time: a file that cannot be read is drawn again, and a folder
that cannot be written is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

CACHE_DIR_ENV = "DIGITS_CACHE_DIR"

Examples = tuple[np.ndarray, np.ndarray]  # images, labels


def cache_dir() -> Path:
    """$DIGITS_CACHE_DIR, else ~/.cache/digits."""
    return Path(os.environ.get(CACHE_DIR_ENV) or Path.home() / ".cache" / "digits").expanduser()


def examples_key(settings: dict[str, object], inputs: Iterable[Path]) -> str:
    """A key for examples drawn with ``settings`` by the code and from the data in the files ``inputs``."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in inputs:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:20]


def load_or_render(name: str, key: str, render: Callable[[], Examples], folder: Path | None = None) -> Examples:
    """The examples saved as ``name`` under ``key``, else ``render()``'s, saved for next time (replacing any of
    ``name`` saved under another key: they can never be read again)."""
    folder = cache_dir() if folder is None else folder
    path = folder / f"{name}-{key}.npz"
    try:
        with np.load(path) as saved:
            return saved["images"], saved["labels"]
    except (OSError, ValueError, KeyError, EOFError):  # absent, or damaged: draw them again
        pass
    images, labels = render()
    partial = folder / f".{path.name}.{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as file:
            np.savez_compressed(file, images=images, labels=labels)
        os.replace(partial, path)  # whole or not at all, even with two runs writing at once
        for stale in folder.glob(f"{name}-*.npz"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return images, labels
