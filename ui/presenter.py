"""The presenter view (``/draw?present``): the Draw page for a projector. A large canvas, a very large
answer and the QR code a room scans to draw on their own phones; the sidebar and small print are gone.

The canvas is twice the Draw page's size, pen included, and its drawing is shrunk back by half (each
2x2 block averaged) before it is read: the model gets exactly what the Draw page's canvas gives it.
"""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from digits.predict import Outcome, read_digits
from digits.preprocess import CANVAS_SIZE, preprocess_canvas
from digits.store import StoredRun
from ui import canvas, not_a_digit, resources, share_view

PRESENT_PARAMETER = "present"
SCALE = 2  # the canvas, against the Draw page's
ANSWER_PIXELS = 240  # the answer's font size: its digits about 150 px tall, readable from the back of a room

_CSS = f"""<style>
[data-testid=stSidebar], [data-testid=stSidebarCollapsedControl], [data-testid=stHeader],
[data-testid=stCaptionContainer] {{ display: none; }}
[data-testid=stMainBlockContainer] {{ max-width: none; padding: 1.5rem 3rem; }}
.digits-answer {{ font-size: {ANSWER_PIXELS}px; line-height: 1.05; font-weight: 700; text-align: center; }}
.digits-answer.digits-long {{ font-size: {ANSWER_PIXELS // 2}px; }}
</style>"""


def wanted() -> bool:
    return PRESENT_PARAMETER in st.query_params


def shrink(rgba: np.ndarray) -> np.ndarray:
    """The big canvas's pixels as the Draw page's canvas would have them: each SCALE x SCALE block averaged."""
    blocks = rgba.reshape(CANVAS_SIZE, SCALE, CANVAS_SIZE, SCALE, rgba.shape[2]).astype(np.float32)
    return blocks.mean(axis=(1, 3)).round().astype(np.uint8)


def _answer_html(text: str) -> str:
    long = " digits-long" if len(text) > 4 else ""
    return f'<div class="digits-answer{long}" data-testid="digitsAnswer">{html.escape(text)}</div>'


def show(run: StoredRun) -> None:
    st.html(_CSS)
    canvas_col, answer_col, join_col = st.columns([1.25, 1, 0.9], gap="large")
    with canvas_col:
        rgba = canvas.drawing_canvas(key="present_canvas", size=CANVAS_SIZE * SCALE)
    images = preprocess_canvas(shrink(rgba)) if rgba is not None else []
    reading = read_digits(resources.predictor(run), images, not_a_digit.decision(run))
    with answer_col:
        st.markdown("### It reads")
        if reading is None:
            st.html(_answer_html("–"))
        else:
            st.html(_answer_html(reading.text if reading.outcome is Outcome.DIGIT else "Not a digit"))
            if reading.outcome is Outcome.DIGIT:
                st.markdown(f"### {reading.confidence:.0%} sure")
    with join_col:
        st.markdown("### Draw on your phone")
        link = share_view.page_link()
        if link is not None:
            share_view.show_qr(link, width=420, caption="Scan to draw on your own phone")
