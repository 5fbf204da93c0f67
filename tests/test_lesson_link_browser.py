"""Lesson links and sharing in real Chromium: a link opens the Train page as it says, and the QR code the
page shows decodes to the page's own link."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.browser import (
    BROWSER_TESTS,
    address,
    assert_no_exception,
    open_page,
    screenshot,
    wait_for,
)

pytestmark = BROWSER_TESTS
playwright = pytest.importorskip("playwright.sync_api")
zxingcpp = pytest.importorskip("zxingcpp")

LESSON = ("kind=cnn&epochs=5&batch_size=64&learning_rate=0.003&dropout=0.2&augment=on&seed=7"
          "&hide=learning_rate,dropout,seed")


def widget_labels(page) -> list[str]:
    return [label.strip() for label in page.locator("[data-testid=stWidgetLabel]").all_inner_texts()]


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_a_lesson_link_sets_up_the_train_page(page, server: str) -> None:
    open_page(page, f"{server}/train?{LESSON}")
    assert page.get_by_role("radio", name=re.compile("^Convolutional network")).is_checked()
    assert page.get_by_role("slider", name="Epochs").input_value() == "5"
    assert page.get_by_role("slider", name="Batch size").get_attribute("aria-valuetext") == "64"
    assert page.get_by_role("switch", name="Vary the training digits").is_checked()
    labels = widget_labels(page)
    assert {"Learning rate", "Dropout", "Random seed"}.isdisjoint(labels), labels
    assert {"Epochs", "Batch size", "Hidden units"} <= set(labels), labels
    # The address is a link to what is on screen (that it follows a change: the next test).
    wait_for(lambda: query(address(page)).get("epochs") == ["5"], 10, "the settings in the address")
    assert all(query(address(page))[name] == values for name, values in query(f"?{LESSON}").items())
    assert page.locator("[data-testid=stAlertContentWarning]").count() == 0
    screenshot(page, "lesson-link")
    assert_no_exception(page)


def test_the_address_follows_the_settings_on_screen(page, server: str) -> None:
    open_page(page, f"{server}/train?{LESSON}")
    wait_for(lambda: query(address(page)).get("epochs") == ["5"], 10, "the settings in the address")
    # One key, one change: arrow keys pressed while the page reruns may be lost before the slider sends them.
    page.get_by_role("slider", name="Epochs").press("End")
    wait_for(lambda: query(address(page)).get("epochs") == ["30"], 10, "the new number of epochs in the address")
    page.get_by_role("switch", name="Vary the training digits").press("Space")  # a visually hidden input
    wait_for(lambda: query(address(page)).get("augment", ["off"]) == ["off"], 10, "the switch in the address")
    now = query(address(page))
    assert now["batch_size"] == ["64"] and now["hide"] == ["learning_rate,dropout,seed"] and now["epochs"] == ["30"]
    # The address now opens the page as it is on screen.
    open_page(page, address(page))
    assert page.get_by_role("slider", name="Epochs").input_value() == "30"
    assert not page.get_by_role("switch", name="Vary the training digits").is_checked()
    assert_no_exception(page)


def test_a_link_with_a_bad_value_opens_with_a_notice(page, server: str) -> None:
    open_page(page, f"{server}/train?epochs=500&batch_size=64")
    notice = page.locator("[data-testid=stAlertContentWarning]")
    assert "epochs='500'" in notice.inner_text() and "1 to 30" in notice.inner_text()
    assert page.get_by_role("slider", name="Batch size").get_attribute("aria-valuetext") == "64"
    assert_no_exception(page)


def test_the_qr_code_shown_decodes_to_the_pages_own_link(page, server: str) -> None:
    from PIL import Image

    open_page(page, f"{server}/train?{LESSON}")
    wait_for(lambda: query(address(page)).get("epochs") == ["5"], 10, "the settings in the address")
    page.get_by_role("button", name="Share this set-up").click()
    image = page.locator("[role=dialog] [data-testid=stImage] img")
    image.wait_for()
    page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())
    assert image.bounding_box()["width"] >= 400
    screenshot(page, "share-dialog")
    decoded = [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(image.screenshot())))]
    assert len(decoded) == 1, decoded
    link, own = urlsplit(decoded[0]), urlsplit(address(page))
    assert (link.scheme, link.netloc, link.path) == (own.scheme, own.netloc, "/train")
    assert query(decoded[0]) == {name: values for name, values in query(address(page)).items() if name != "job"}
    assert page.locator("[role=dialog] [data-testid=stCode]").inner_text().strip() == decoded[0]
