"""Share this set-up: the page's link and a QR code of it, large enough to scan from the back of a room."""

from __future__ import annotations

import streamlit as st

from digits.lesson_link import only_this_computer, share_link
from digits.qr_code import qr_png

QR_WIDTH = 480  # CSS pixels: on a projector, a code this size scans from the back of a classroom


def page_link() -> str | None:
    """This page's link with its set-up, to hand to others (None without a browser, as in AppTest)."""
    return None if st.context.url is None else share_link(st.context.url, st.query_params.to_dict())


def show_qr(link: str, width: int = QR_WIDTH, caption: str = "Scan with a phone's camera to open this set-up") -> None:
    if only_this_computer(link):
        st.warning("This address opens the app on this computer only. To share it, start the app with "
                   "`--server.address 0.0.0.0` and open it by this computer's network address (Streamlit "
                   "prints it as the Network URL).", icon=":material/wifi_off:")
    st.image(qr_png(link), width=width, caption=caption)


@st.dialog("Share this set-up", width="large")
def _share_dialog(link: str) -> None:
    st.markdown("Open this link, or scan the code, on any phone, tablet or computer in the room:")
    st.code(link, language=None, wrap_lines=True)
    show_qr(link)


def share_button() -> None:
    """The sidebar's "Share this set-up" button (every page). The link is taken when it is pressed: the
    address then holds what the page showed when its last run ended."""
    if st.sidebar.button("Share this set-up", icon=":material/qr_code_2:", key="share_open",
                         disabled=st.context.url is None, width="stretch"):
        _share_dialog(page_link())
