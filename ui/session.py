"""What a browser session keeps while its person moves between pages."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

KEPT_KEY = "kept_widget_values"


def keep_widget_values(keys: Iterable[str]) -> None:
    """Call at the top of a page, before its widgets: the person's choices survive a visit to another page.

    Streamlit forgets a widget's value when a script run ends without drawing it, as happens on every other
    page; so each run notes the values, and puts back those Streamlit has dropped.
    """
    kept = st.session_state.setdefault(KEPT_KEY, {})
    for key in keys:
        if key in st.session_state:
            kept[key] = st.session_state[key]
        elif key in kept:
            st.session_state[key] = kept[key]
