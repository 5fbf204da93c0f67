"""Evaluate's real doodles: Quick, Draw! players' drawings of kinds no model here trained on, read as the Draw page
reads them, the share rejected by kind, and the kinds that fool the model most, shown as the doodles people drew."""

from __future__ import annotations

import numpy as np
import streamlit as st

from digits.drawn_sets import DrawnSample, read_sample, rejected, render_sample
from digits.non_digits import kinds_that_fool, shares_by_label
from digits.predict import Decision
from digits.quickdraw import load_doodles, quickdraw_path, split_by_kind
from digits.store import StoredRun
from digits.unipen import DrawnDataError, DrawnDigit, render_strokes
from ui import resources

SAMPLE_SEED = 7  # where on the canvas each doodle is drawn: the same for every model, so figures compare
FOOLING_KINDS_SHOWN = 6
DRAWINGS_PER_KIND = 3
THUMBNAIL = 112  # pixels: a doodle small enough for a row of them, large enough to see what it is


@st.cache_resource(show_spinner="Drawing real people's doodles on the canvas...")
def _held_out_doodles(path: str) -> tuple[tuple[DrawnDigit, ...], DrawnSample]:
    """The doodles of the kinds kept apart from every model's training, and how the Draw page reads them."""
    doodles = tuple(split_by_kind(load_doodles(path))[1])
    return doodles, render_sample([d.strokes for d in doodles], [d.label for d in doodles], SAMPLE_SEED)


def real_doodles_section(run: StoredRun, decision: Decision) -> None:
    """The share of real doodles rejected, per kind, and pictures of the kinds it takes for digits most."""
    try:
        doodles, sample = _held_out_doodles(str(quickdraw_path()))
    except (DrawnDataError, OSError) as error:
        st.warning(f"The real doodles could not be read: {error}")
        return
    readings = read_sample(resources.predictor(run), sample, decision)
    rejections = rejected(readings)
    by_kind = shares_by_label(rejections, sample.labels)
    always = sum(share == 1.0 for share in by_kind.values())
    st.metric("Real doodles rejected", f"{rejections.mean():.1%}",
              help=f"{len(sample.labels):,} doodles of {len(by_kind)} kinds (an airplane, a donut, a snowman...) "
              "drawn by players of Google's Quick, Draw! game, of kinds kept apart from every model's training.")
    st.caption(f"Drawn by real people, not by a program: {always} of the {len(by_kind)} kinds are always rejected.")
    fooling = kinds_that_fool(sample, readings, FOOLING_KINDS_SHOWN)
    if not fooling:
        st.caption("No kind fools it: every doodle was rejected.")
        return
    st.markdown("**What fools it**: the kinds it most often takes for digits, as people drew them, with what it read.")
    for kind in fooling:
        shown = kind.drawings[:DRAWINGS_PER_KIND]
        pictures = [255 - render_strokes(doodles[i].strokes, canvas_size=THUMBNAIL, pen_width=4)[..., 0]
                    for i in shown]
        captions = [f"read as {readings[i].text}" for i in shown]
        st.markdown(f"*{kind.kind}*: taken for a digit {kind.taken_for_digits:.0%} of the time")
        st.image([np.asarray(p) for p in pictures], caption=captions, width=THUMBNAIL)
