"""QR codes of links, as PNG images, for a room to scan from a projector (segno: pure Python, no dependencies)."""

from __future__ import annotations

import io

import segno

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks, so scanners find its edges


def qr_png(text: str, module_pixels: int = 12) -> bytes:
    """``text`` as a black-on-white QR code, each module ``module_pixels`` wide (sharp when shown large).
    Error correction M: a code stays readable with some 15% of it unreadable (glare, a head in the way)."""
    code = segno.make(text, error="m", boost_error=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=module_pixels, border=QUIET_ZONE)
    return buffer.getvalue()
