"""The Evaluate page's "drawn digits" score: real pen-drawn digits read through the Draw page's path."""

from __future__ import annotations

import streamlit as st

from digits.evaluation import DrawnSet, render_drawn_set, score_drawn
from digits.store import StoredRun
from digits.unipen import DrawnDataError, drawn_digits_path, load_drawn_digits
from ui import resources


@st.cache_resource(show_spinner="Drawing 1,000 handwritten digits on the canvas...")
def _drawn_set(path: str) -> DrawnSet:
    # The same drawings for every model, so their scores compare.
    return render_drawn_set(load_drawn_digits(path), seed=0)


def pen_score_section(run: StoredRun) -> None:
    st.subheader("Reading digits drawn with a pen")
    try:
        drawn = _drawn_set(str(drawn_digits_path()))
    except (DrawnDataError, OSError) as error:
        st.warning(f"The pen-drawn digits could not be read, so this score is missing: {error}")
        return
    score = score_drawn(resources.predictor(run)(drawn.images), drawn)
    st.metric(
        "Drawn digits read right",
        f"{score.accuracy:.1%}",
        help=f"{score.count:,} digits drawn with a pen by {score.writers} other people, placed anywhere on the "
        "canvas at different sizes, and prepared exactly as the Draw page prepares your drawing.",
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
