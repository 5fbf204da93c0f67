"""Draw's speed as a person meets it: a server started cold, one Chromium session on the Draw page, 40
pen-drawn UNIPEN digits replayed as mouse drags (anywhere on the canvas, fixed seed), Clear between them.
Prints how many were read right, mouse-up to the reading of the whole drawing (median and p95, the first
drawing of the visit apart), where that time went (the canvas's wait before sending, the server's answer,
the browser drawing it) and mouse-up to the heat map.

    PYTHONPATH=. python benchmarks/draw_speed.py [--digits 40] [--seed 0]

Needs Debian's chromium; the drawings are the shipped pen digits unless DIGITS_DRAWN_DATA names others. The
page is read with the default model, as a first visitor's is.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

import numpy as np
from playwright.async_api import async_playwright

from digits.unipen import load_drawn_digits
from harness.browser import CHROMIUM, CHROMIUM_ARGS, LATENCY_PROBE_JS, app_env, streamlit_server
from harness.load import Tally, clear, draw_once

LOOK_SECONDS = 0.5  # a person looks at the answer before pressing Clear
PEN_UP_SECONDS = 1.0  # and picks up the pen again


async def measure(url: str, count: int, seed: int) -> tuple[Tally, Tally, int]:
    """The first drawing's tally, the others', and how many of all were read right."""
    drawn = load_drawn_digits()
    rng = np.random.default_rng(seed)
    chosen = [drawn[int(i)] for i in rng.choice(len(drawn), size=count, replace=False)]
    first, rest, right = Tally(), Tally(), 0
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1400, "height": 1100})
        await context.add_init_script(LATENCY_PROBE_JS)
        page = await context.new_page()
        await page.goto(f"{url}/draw")
        await page.wait_for_selector("canvas.upper-canvas", timeout=120_000)
        await asyncio.sleep(PEN_UP_SECONDS)
        for number, digit in enumerate(chosen):
            answer = await draw_once(page, digit, rng, first if number == 0 else rest)
            right += answer == str(digit.label)
            await asyncio.sleep(LOOK_SECONDS)
            await clear(page, rest)
            await asyncio.sleep(PEN_UP_SECONDS)
        await browser.close()
    return first, rest, right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="draw-speed-"))
    with streamlit_server(app_env(scratch, os.environ.get("DIGITS_DATA_DIR"))) as server:
        first, rest, right = asyncio.run(measure(server.url, args.digits, args.seed))
    print(f"{args.digits} pen-drawn digits on the Draw page, one Chromium, a server started cold, "
          f"this {os.cpu_count()}-core machine")
    print(f"read right: {right} of {args.digits}")
    print(f"first drawing of the visit: {first.summary()}")
    print(f"the other {args.digits - 1}: {rest.summary()}")
    for tally in (first, rest):
        for error in sorted(set(tally.errors)):
            print(f"error: {error}")


if __name__ == "__main__":
    main()
