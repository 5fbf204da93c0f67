"""Page styles that keep the app usable on phones and tablets.

Streamlit stacks columns only when the whole window is narrower than 640 px. On a tablet held upright
(810 px, as an iPad) the open sidebar leaves the page about 510 px, and side-by-side columns then
squeezed the Draw page's 280 px canvas into a 180 px column that clipped it, and scrolled the page
sideways. So columns stack when the page itself, not the window, is that narrow (a CSS container query
on the page's block).
"""

from __future__ import annotations

import streamlit as st

STACK_BELOW = "640px"  # Streamlit's own width for stacking columns, applied to the page instead of the window

_CSS = f"""<style>
[data-testid=stMainBlockContainer] {{ container-type: inline-size; container-name: digits-page; }}
@container digits-page (max-width: {STACK_BELOW}) {{
  [data-testid=stHorizontalBlock] {{ flex-wrap: wrap; }}
  [data-testid=stHorizontalBlock] > [data-testid=stColumn] {{ min-width: 100%; }}
}}
</style>"""


def fit_small_screens() -> None:
    """Add the styles to the page (call once per script run, from the frame)."""
    st.html(_CSS)
