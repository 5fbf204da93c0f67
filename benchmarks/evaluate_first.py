"""Evaluate from a server just started: seconds from the click on "Evaluate" in the sidebar until each section
first shows in Chromium (the default model). The issue's target: the test accuracy, the confusion matrix and at
least 4 mistakes within 5 s; the pen-drawn score, "not a digit" and what it has learned within 30 s.

    PYTHONPATH=. DIGITS_DATA_DIR=... python benchmarks/evaluate_first.py [--visits 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from harness.browser import (
    EVALUATE_SECTIONS_JS,
    app_env,
    chromium,
    chromium_page,
    open_page,
    streamlit_server,
    wait_for,
)

SECTIONS = ("accuracy", "matrix", "mistakes", "pen_score", "not_a_digit", "learned")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=2, help="the first on a server just started, then again")
    args = parser.parse_args()
    print(f"{'visit':>5} " + " ".join(f"{name:>11}" for name in SECTIONS) + "  (s after the click)")
    data_dir = os.environ.get("DIGITS_DATA_DIR")  # full MNIST, as people's Evaluate reads it
    with tempfile.TemporaryDirectory() as scratch, streamlit_server(app_env(Path(scratch), data_dir)) as server, \
            chromium() as browser:
        for visit in range(1, args.visits + 1):
            with chromium_page(browser) as page:
                page.add_init_script(EVALUATE_SECTIONS_JS)
                open_page(page, server.url)
                clicked_at = page.evaluate("window.__shown = {}, performance.now()")
                page.locator("[data-testid=stSidebarNav] a", has_text="Evaluate").click()
                wait_for(lambda: page.evaluate(f"{list(SECTIONS)}.every(name => name in window.__shown)"), 300,
                         "every section of Evaluate")
                shown = page.evaluate("window.__shown")
                print(f"{visit:>5} " + " ".join(f"{(shown[name] - clicked_at) / 1000:>11.1f}" for name in SECTIONS),
                      flush=True)


if __name__ == "__main__":
    main()
