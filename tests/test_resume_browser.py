"""A run survives its server in real Chromium: started on the Train page, the server and its training process are
killed (SIGKILL) after its first epoch, and the server started again shows the same run training live on the same
page, where it finishes with every epoch once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from digits.background.journal import JOURNAL_DIR
from digits.store import ModelStore
from harness.browser import (
    BROWSER_TESTS,
    address,
    app_env,
    assert_no_exception,
    metric,
    open_page,
    screenshot,
    streamlit_server,
    wait_for,
)

pytestmark = [*BROWSER_TESTS, pytest.mark.slow]
playwright = pytest.importorskip("playwright.sync_api")

EPOCHS = 30  # of a quarter of a second or so each on the sample: long enough to be killed in, and watched after


def test_a_run_carries_on_live_after_its_server_is_killed(page, tmp_path: Path) -> None:
    env = app_env(tmp_path)
    models = Path(env["DIGITS_MODELS_DIR"])
    with streamlit_server(env) as first:
        open_page(page, f"{first.url}/train?kind=mlp&epochs={EPOCHS}&batch_size=16")
        page.get_by_role("button", name="Start training").click()
        wait_for(lambda: metric(page, "Epoch").endswith(f"/ {EPOCHS}"), 60, "the run to start")
        wait_for(lambda: list(models.glob(f"{JOURNAL_DIR}/*/checkpoint-*.pickle")), 60, "its first finished epoch")
        os.killpg(first.pid, signal.SIGKILL)  # the server and its training process: a power cut
    wait_for(lambda: "job" in parse_qs(urlsplit(address(page)).query), 10, "the run in the address")
    assert ModelStore(models, builtin=None).list() == [], "the run ended before its server was killed"
    with streamlit_server(env, port=urlsplit(page.url).port):
        page.reload()  # the person comes back to the tab
        wait_for(lambda: page.get_by_text("Carried on from epoch").count() > 0, 60,
                 "the run carried on, on the page that started it")
        shown = []  # the Epoch figure as the page showed it, each value once
        deadline = time.monotonic() + 120
        while page.get_by_text("Saved as").count() == 0:
            assert time.monotonic() < deadline, "the run never finished after it carried on"
            if (epoch := metric(page, "Epoch")) and epoch not in shown:
                shown.append(epoch)
            if len(shown) == 2:
                screenshot(page, "carried-on-run")
            time.sleep(0.05)
        assert page.get_by_text("Carried on from epoch").count() > 0
        assert_no_exception(page)
    # Live: the page showed it training on, epoch after epoch, not only once it had finished.
    assert len([epoch for epoch in shown if epoch != f"{EPOCHS} / {EPOCHS}"]) >= 2, shown
    [saved] = ModelStore(models, builtin=None).list()
    record = saved.record
    assert len(record.history["accuracy"]) == EPOCHS
    assert [moment["why"] for moment in record.carried_on] == ["the server started again"]
