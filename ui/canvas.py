"""The drawing canvas, behind one small function so it can be swapped later.

streamlit-drawable-canvas 0.13.0 keeps its toolbar invisible over the canvas's top right corner
(about 30 px) until the pointer has hovered there for 0.2 s: a quick stroke starting there is
swallowed by the invisible toolbar, and on touch screens, with no hover, it always is. The
toolbar lives in the component's shadow DOM, out of reach of page CSS, so a tiny script adds a
rule inside it: the toolbar always shows, above the canvas, never over the drawing surface.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import streamlit as st

from digits.preprocess import CANVAS_SIZE, PEN_WIDTH

TOOLBAR_SPACE = "2.9rem"

_TOOLBAR_FIX_JS = f"""
export default function () {{
  const css = `.dc-root {{ margin-top: {TOOLBAR_SPACE}; }}
    .dc-toolbar {{ opacity: 1 !important; top: -{TOOLBAR_SPACE} !important; transition: none !important; }}`;
  const patch = () => {{
    for (const host of document.querySelectorAll("[data-testid=stBidiComponentIsolated]")) {{
      const root = host.shadowRoot;
      if (root && root.querySelector(".dc-root") && !root.querySelector("style[data-digits-toolbar]")) {{
        const style = document.createElement("style");
        style.dataset.digitsToolbar = "";
        style.textContent = css;
        root.appendChild(style);
      }}
    }}
  }};
  // The canvas fills its shadow root after mounting, which no observer of the page sees: check often.
  patch();
  const timer = setInterval(patch, 250);
  return () => clearInterval(timer);
}}
"""

@functools.cache
def _components() -> tuple[Callable[..., object], Callable[..., object]]:
    # Imported on first use: the canvas registers its files with a running server, which AppTest
    # (where tests replace drawing_canvas) does not have.
    from streamlit_drawable_canvas import st_canvas

    return st_canvas, st.components.v2.component("digits_canvas_toolbar_fix", js=_TOOLBAR_FIX_JS)


def drawing_canvas(key: str) -> np.ndarray | None:
    """A square canvas for one or more digits: white ink on black. Returns its RGBA pixels
    (CANVAS_SIZE x CANVAS_SIZE x 4, uint8), or None before the browser has sent anything."""
    st_canvas, toolbar_fix = _components()
    toolbar_fix(key="digits_canvas_toolbar_fix")
    result = st_canvas(
        stroke_width=PEN_WIDTH,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=CANVAS_SIZE,
        width=CANVAS_SIZE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    image = result.image_data
    return None if image is None else np.asarray(image, dtype=np.uint8)
