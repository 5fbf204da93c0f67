"""The drawing canvas and its Clear button, behind one small function so they can be swapped later.

Clear happens in the browser. A Clear that asked the server for a fresh canvas (a new widget key) lost
every stroke begun before the new canvas arrived: half a second here, much longer on a busy server.
The button instead presses the canvas's own reset, which empties it at once and sends the empty
drawing; the canvas stays mounted, so a stroke begun right after Clear is drawn and read.

streamlit-drawable-canvas 0.13.0 also keeps its toolbar invisible over the canvas's top right corner
(about 30 px) until the pointer has hovered there for 0.2 s: a quick stroke starting there is
swallowed by the invisible toolbar, and on touch screens, with no hover, it always is. The toolbar
lives in the component's shadow DOM, out of reach of page CSS, so the same script adds a rule inside
it: the toolbar always shows, above the canvas, never over the drawing surface.

The canvas also waits 200 ms after each stroke before it sends the drawing (a constant in its bundle, no
option), most of the time between lifting the pen and seeing the answer. So when a stroke ends (pointer
up after a pointer down on a canvas), the script presses the canvas's own "update" button, which sends
the drawing at once and cancels the pending send. It waits one task first: the canvas adds the stroke
in its own pointer-up handler and records it a microtask later.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import streamlit as st

from digits.preprocess import CANVAS_SIZE, PEN_WIDTH

TOOLBAR_SPACE = "2.9rem"
# The canvas's own toolbar buttons: reset empties the canvas and sends the empty drawing at once; update
# sends the drawing at once.
RESET_LABEL = "Reset canvas & history"
SEND_LABEL = "Update the app with this drawing"

_TOOLS_HTML = '<button type="button" class="digits-clear" title="Empty the canvas">Clear</button>'

# Shaped like Streamlit's secondary buttons, from the theme's own variables.
_TOOLS_CSS = """
.digits-clear {
  font: inherit; font-family: var(--st-font); font-size: 1rem; line-height: 1.6;
  color: var(--st-text-color); background: var(--st-background-color);
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); border-radius: var(--st-base-radius, 0.5rem);
  padding: 0.25rem 0.75rem; min-height: 2.5rem; cursor: pointer;
}
.digits-clear:hover, .digits-clear:focus-visible {
  border-color: var(--st-primary-color); color: var(--st-primary-color);
}
.digits-clear:active { color: #fff; background: var(--st-primary-color); }
"""

_TOOLS_JS = f"""
export default function ({{ parentElement }}) {{
  const css = `.dc-root {{ margin-top: {TOOLBAR_SPACE}; }}
    .dc-toolbar {{ opacity: 1 !important; top: -{TOOLBAR_SPACE} !important; transition: none !important; }}`;
  const canvasRoots = () => [...document.querySelectorAll("[data-testid=stBidiComponentIsolated]")]
    .map(host => host.shadowRoot).filter(root => root && root.querySelector(".dc-root"));
  const patch = () => {{
    for (const root of canvasRoots()) {{
      if (!root.querySelector("style[data-digits-toolbar]")) {{
        const style = document.createElement("style");
        style.dataset.digitsToolbar = "";
        style.textContent = css;
        root.appendChild(style);
        root.addEventListener("pointerdown", strokeStarts, true);
      }}
    }}
  }};
  let drawingIn = null, sendTimer = null;
  const sendNow = () => {{
    sendTimer = null;
    drawingIn?.querySelector('button[aria-label="{SEND_LABEL}"]')?.click();
    drawingIn = null;
  }};
  const strokeStarts = event => {{  // on the drawing surface, not the toolbar
    if (event.target.tagName !== "CANVAS") return;
    clearTimeout(sendTimer);
    drawingIn = event.currentTarget;
  }};
  const strokeEnds = () => {{ if (drawingIn) sendTimer = setTimeout(sendNow, 0); }};
  window.addEventListener("pointerup", strokeEnds, true);
  window.addEventListener("pointercancel", strokeEnds, true);
  // The canvas fills its shadow root after mounting, which no observer of the page sees: check often.
  patch();
  const timer = setInterval(patch, 250);
  parentElement.querySelector("button.digits-clear").onclick = () => {{
    for (const root of canvasRoots()) root.querySelector('button[aria-label="{RESET_LABEL}"]')?.click();
  }};
  return () => {{
    clearInterval(timer);
    window.removeEventListener("pointerup", strokeEnds, true);
    window.removeEventListener("pointercancel", strokeEnds, true);
  }};
}}
"""


@functools.cache
def _components() -> tuple[Callable[..., object], Callable[..., object]]:
    # Imported on first use: the canvas registers its files with a running server, which AppTest
    # (where tests replace drawing_canvas) does not have.
    from streamlit_drawable_canvas import st_canvas

    tools = st.components.v2.component("digits_canvas_tools", html=_TOOLS_HTML, css=_TOOLS_CSS, js=_TOOLS_JS)
    return st_canvas, tools


def drawing_canvas(key: str, size: int = CANVAS_SIZE) -> np.ndarray | None:
    """A square canvas for one or more digits, white ink on black, with a Clear button under it. Returns
    its RGBA pixels (size x size x 4, uint8), or None before the browser has sent anything. The pen keeps
    its width relative to the canvas."""
    st_canvas, tools = _components()
    result = st_canvas(
        stroke_width=PEN_WIDTH * size / CANVAS_SIZE,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=size,
        width=size,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    tools(key=f"{key}_tools")
    image = result.image_data
    return None if image is None else np.asarray(image, dtype=np.uint8)
