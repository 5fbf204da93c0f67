"""Real people's doodles (Quick, Draw!): what people actually draw when they are not drawing digits.

A doodle generator only makes what its author thought of; a model that learned "not a digit" from it
alone took a quarter of real people's doodles of kinds it never saw for digits (a thin bat for a 1, a
donut for a 0, a snowman for an 8). These are drawings by players of Google's *Quick, Draw!* game
(CC BY 4.0), in the UNIPEN files' format: strokes fitted to a 0..1000 square, y down.

Kinds are kept apart by a hash of the kind, never by chance: a fixed share of the kinds never reaches
training, and the "real doodles" figures are measured on them, as people will draw things nobody
thought of. A few hundred doodles of the training kinds ship in assets/quickdraw/ (credited there), so a
run trained on the Train page learns from real drawings on every installation.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from digits.unipen import DrawnDataError, DrawnDigit, parse_samples, read_samples

QUICKDRAW_DATA_ENV = "DIGITS_QUICKDRAW_DATA"
SHIPPED_QUICKDRAW = Path(__file__).resolve().parent.parent / "assets" / "quickdraw" / "quickdraw_doodles.json.gz"
HELD_OUT_KIND_SHARE = 4  # one kind in this many is held out (by a hash of the kind's name)


def is_held_out_kind(kind: str) -> bool:
    """A fixed share of the kinds, chosen by a hash of the name: never trained on, measured on."""
    return hashlib.sha256(kind.encode()).digest()[0] % HELD_OUT_KIND_SHARE == 0


def quickdraw_path() -> Path:
    """The doodles to use: $DIGITS_QUICKDRAW_DATA where set, else the set shipped with the app."""
    configured = os.environ.get(QUICKDRAW_DATA_ENV)
    return Path(configured).expanduser() if configured else SHIPPED_QUICKDRAW


def load_doodles(path: str | os.PathLike[str] | None = None) -> list[DrawnDigit]:
    """Read a quickdraw_*.json.gz file (default: quickdraw_path()): ``label`` the kind, ``writer`` the
    drawing's Quick, Draw! key."""
    path = quickdraw_path() if path is None else Path(path).expanduser()
    doodles = parse_samples(read_samples(path), path, writer_key="key_id")
    for index, doodle in enumerate(doodles):
        if not isinstance(doodle.label, str) or not doodle.label:
            raise DrawnDataError(f"{path}: sample {index} has label {doodle.label!r}, expected a kind of thing.")
    return doodles


def split_by_kind(doodles: list[DrawnDigit]) -> tuple[list[DrawnDigit], list[DrawnDigit]]:
    """(training doodles, held-out doodles): no kind on both sides."""
    held_out = [doodle for doodle in doodles if is_held_out_kind(str(doodle.label))]
    training = [doodle for doodle in doodles if not is_held_out_kind(str(doodle.label))]
    return training, held_out
