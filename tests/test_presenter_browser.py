"""The presenter view (/draw?present) in real Chromium at 1920x1080, a projector's screen: a large canvas,
a very large answer and the QR code to join, all on one screen, without the sidebar."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest

from harness.browser import BROWSER_TESTS, assert_no_exception, draw, new_page, open_page, screenshot, wait_for

pytestmark = BROWSER_TESTS
playwright = pytest.importorskip("playwright.sync_api")
zxingcpp = pytest.importorskip("zxingcpp")

SEVEN = [[(100.0, 120.0), (440.0, 120.0), (240.0, 500.0)]]  # on the presenter's 560 px canvas
ANSWER = "[data-testid=digitsAnswer]"
# The answer's ink height: the glyphs' own ascent and descent in the font the page shows them in.
INK_HEIGHT_JS = """element => {
  const style = getComputedStyle(element), context = document.createElement('canvas').getContext('2d');
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const metrics = context.measureText(element.innerText.trim());
  return metrics.actualBoundingBoxAscent + metrics.actualBoundingBoxDescent;
}"""


def test_the_presenter_view_fills_a_projector(browser, server: str) -> None:
    from PIL import Image

    with new_page(browser, viewport={"width": 1920, "height": 1080}) as page:
        open_page(page, f"{server}/draw?present")
        canvas = page.locator("canvas.upper-canvas")
        canvas.wait_for()
        box = canvas.bounding_box()
        assert box["width"] >= 500 and box["height"] >= 500, box
        assert box["y"] + box["height"] <= 1080, "the canvas runs off the screen"
        assert not page.locator("[data-testid=stSidebar]").is_visible()

        draw(page, SEVEN)
        wait_for(lambda: page.locator(ANSWER).inner_text().strip() == "7", 30, "the seven to be read")
        answer = page.locator(ANSWER)
        ink = answer.evaluate(INK_HEIGHT_JS)
        assert ink >= 120, f"the answer's digit is {ink:.0f} px tall"
        assert answer.bounding_box()["y"] + answer.bounding_box()["height"] <= 1080

        qr = page.locator("[data-testid=stImage] img")
        page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=qr.element_handle())
        assert qr.bounding_box()["y"] + qr.bounding_box()["height"] <= 1080
        decoded = [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))]
        link = urlsplit(decoded[0])
        assert (link.netloc, link.path) == (urlsplit(page.url).netloc, "/draw")
        assert "present" not in link.query  # the room joins the ordinary Draw page
        print(f"presenter view at 1920x1080: canvas {box['width']:.0f} px, answer's digit {ink:.0f} px tall, "
              f"QR code {qr.bounding_box()['width']:.0f} px")
        screenshot(page, "presenter")
        assert_no_exception(page)
