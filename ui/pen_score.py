"""The Evaluate page's "drawn digits" score: real pen-drawn digits read through the Draw page's path.

The 1,000 pen-drawn digits are drawn on the canvas once for every model and read once per model; the score
here and "Things that are not digits" (ui/not_a_digit.py) both use that one reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from digits.drawn_sets import DrawnSample, read_right, read_sample, render_sample
from digits.predict import Reading, model_decision
from digits.store import StoredRun
from digits.unipen import DrawnDataError, drawn_digits_path, load_drawn_digits
from ui import resources

SEED = 0  # the same drawings, placed the same way, for every model, so their scores compare


@dataclass(frozen=True)
class PenDigits:
    """The pen-drawn digits as drawn on the canvas, how many people drew them, and one model's readings."""

    sample: DrawnSample
    writers: int
    readings: list[Reading | None]  # None: no ink found


@st.cache_resource(show_spinner="Drawing 1,000 handwritten digits on the canvas...")
def _drawn(path: str) -> tuple[DrawnSample, int]:
    drawn = load_drawn_digits(path)
    return render_sample([d.strokes for d in drawn], [d.label for d in drawn], SEED), len({d.writer for d in drawn})


@st.cache_resource(max_entries=8, show_spinner="Reading the handwritten digits...")
def _read(name: str, created: str, path: str, _run: StoredRun) -> list[Reading | None]:
    # Keyed by the run's name and creation time (as ui.resources' caches are), so a replaced run is read again.
    assert _run.record is not None
    decision = model_decision(resources.model(_run), _run.record.not_a_digit)
    return read_sample(resources.predictor(_run), _drawn(path)[0], decision)


def pen_digits(run: StoredRun) -> PenDigits:
    """The shipped pen-drawn digits (DIGITS_DRAWN_DATA's, if set) read by ``run``'s model as Draw reads a
    drawing; DrawnDataError or OSError when they cannot be read."""
    assert run.record is not None
    path = str(drawn_digits_path())
    sample, writers = _drawn(path)
    return PenDigits(sample, writers, _read(run.name, run.record.created, path, run))


def pen_score_section(run: StoredRun) -> None:
    st.subheader("Reading digits drawn with a pen")
    try:
        pen = pen_digits(run)
    except (DrawnDataError, OSError) as error:
        st.warning(f"The pen-drawn digits could not be read, so this score is missing: {error}")
        return
    right = read_right(pen.readings, pen.sample.labels)
    st.metric(
        "Drawn digits read right",
        f"{np.mean(right):.1%}",
        help=f"{len(right):,} digits drawn with a pen by {pen.writers} other people, placed anywhere on the "
        "canvas at different sizes, and read exactly as the Draw page reads your drawing: one taken for "
        "\"not a digit\", or for several digits, counts as wrong.",
    )
    held_out = run.record.drawn.get("held_out_accuracy") if run.record else None
    if held_out is not None:
        st.caption(
            f"This model learned from pen-drawn digits too, by other writers; some of the drawings above are by "
            f"people it learned from. On {run.record.drawn['held_out_count']:,} drawings by "
            f"{run.record.drawn['held_out_writers']} people it never saw it reads **{held_out:.1%}**."
        )
    st.caption(
        "Why this differs from test accuracy: MNIST's test digits were scanned from paper and prepared by its "
        "makers, while these were drawn live on a tablet by other people, with other pens and habits, as you "
        "draw on the Draw page. It is the better guide to how well the model will read *your* drawings."
    )
