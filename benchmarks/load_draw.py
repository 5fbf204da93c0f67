"""Many people drawing at once: browser sessions (real Chromium) replaying pen-drawn UNIPEN digits on
the Draw page of one server, measuring mouse-up to prediction shown, against one session alone;
then one session drawing while training runs on the same server; and the server's memory before,
during and after the sessions.

    PYTHONPATH=. python benchmarks/load_draw.py [--sessions 10] [--seconds 60] [--train-jobs 2]

Needs Debian's chromium and DIGITS_DATA_DIR (for the training phase) and DIGITS_DRAWN_DATA.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from playwright.async_api import Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser import CHROMIUM, CHROMIUM_ARGS, LATENCY_PROBE_JS, Server, process_tree_cpu_seconds, streamlit_server
from digits.drawn import DrawnDigit, load_drawn_digits, random_box, strokes_to_canvas_points

READ_TIMEOUT = 10.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    read: int = 0
    errors: list[str] = field(default_factory=list)
    # CPU seconds the phase cost the server process, its training processes, and the clients (this
    # script, Playwright's driver and Chromium)
    server_cpu: float = 0.0
    training_cpu: float = 0.0
    client_cpu: float = 0.0

    def add(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.read += other.read
        self.errors += other.errors

    def summary(self) -> str:
        if not self.latencies:
            return f"{self.read} read, {len(self.errors)} errors"
        ordered = sorted(self.latencies)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return (f"{self.read:4d} drawings read, {len(self.errors)} errors, mouse-up to prediction median "
                f"{statistics.median(ordered) * 1000:5.0f} ms, p95 {p95 * 1000:5.0f} ms; CPU s: server "
                f"{self.server_cpu:.0f}, training {self.training_cpu:.0f}, clients {self.client_cpu:.0f}")


async def canvas_box(page: Page) -> dict[str, float]:
    """The canvas's place on the page, once the one from before Clear has been replaced."""
    for _ in range(100):
        canvases = page.locator("canvas.upper-canvas")
        if await canvases.count() == 1 and (box := await canvases.bounding_box()) is not None:
            return box
        await asyncio.sleep(0.1)
    raise TimeoutError("the canvas did not settle within 10 s")


async def draw_once(page: Page, digit: DrawnDigit, rng: np.random.Generator, tally: Tally) -> None:
    box = await canvas_box(page)
    strokes = strokes_to_canvas_points(digit.strokes, random_box(rng))
    for stroke in strokes:
        await page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        await page.mouse.down()
        for x, y in stroke[1:]:
            await page.mouse.move(box["x"] + x, box["y"] + y)
        await page.mouse.up()
    try:  # the first new reading after the last mouse-up, timed in the page (LATENCY_PROBE_JS)
        latency = await page.wait_for_function("() => window.__reading.latency", timeout=READ_TIMEOUT * 1000)
        tally.latencies.append(await latency.json_value() / 1000)
        tally.read += 1
    except PlaywrightTimeout:
        tally.errors.append(f"not read within {READ_TIMEOUT:.0f} s")
    if await page.locator("[data-testid=stException]").count():
        tally.errors.append("exception shown")


async def session(browser, url: str, drawn: list[DrawnDigit], seconds: float, seed: int) -> Tally:
    tally = Tally()
    context = await browser.new_context(viewport={"width": 1400, "height": 1100})
    await context.add_init_script(LATENCY_PROBE_JS)
    page = await context.new_page()
    rng = np.random.default_rng(seed)
    try:
        await page.goto(f"{url}/draw")
        await page.wait_for_selector("canvas.upper-canvas", timeout=60_000)
        await asyncio.sleep(1.5)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await draw_once(page, drawn[int(rng.integers(len(drawn)))], rng, tally)
            await asyncio.sleep(0.5)  # a person looks at the answer
            await page.get_by_role("button", name="Clear").click()
            await asyncio.sleep(1.0)  # and picks up the pen again
    except Exception as error:  # a crashed session is an error to report, not a crashed benchmark
        tally.errors.append(f"{type(error).__name__}: {error}")
    finally:
        await context.close()
    return tally


async def start_training(browser, url: str) -> None:
    """Start a CNN run from the Train page of a session of its own, as another person would."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1100})
    page = await context.new_page()
    await page.goto(f"{url}/train")
    await page.wait_for_selector("h1")
    await asyncio.sleep(1.5)
    await page.get_by_text("Convolutional network: looks for").click()
    await asyncio.sleep(1.0)
    await page.get_by_role("button", name="Start training").click()
    await page.wait_for_selector("[data-testid=stProgress]", timeout=120_000)


async def phase(browser, server: Server, drawn: list[DrawnDigit], sessions: int, seconds: float) -> Tally:
    def cpu() -> tuple[float, float, float]:
        return (server.cpu_seconds(), server.children_cpu_seconds(),
                process_tree_cpu_seconds(os.getpid(), exclude=server.pid))

    before = cpu()
    results = await asyncio.gather(
        *(session(browser, server.url, drawn, seconds, seed) for seed in range(sessions))
    )
    server_cpu, training_cpu, client_cpu = (after - start for after, start in zip(cpu(), before, strict=True))
    total = Tally(server_cpu=server_cpu, training_cpu=training_cpu, client_cpu=client_cpu)
    for result in results:
        total.add(result)
    return total


async def main_async(args: argparse.Namespace) -> None:
    drawn = load_drawn_digits()
    env = {"DIGITS_MODELS_DIR": tempfile.mkdtemp(prefix="load-models-"),
           "DIGITS_DRAWINGS_DIR": tempfile.mkdtemp(prefix="load-drawings-")}
    with streamlit_server(env) as server:
        async with async_playwright() as driver:
            browser = await driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            alone = await phase(browser, server, drawn, 1, args.seconds)  # also warms the server up
            rss_before = server.rss_mb()
            crowd = await phase(browser, server, drawn, args.sessions, args.seconds)
            rss_crowd = server.rss_mb()
            await asyncio.sleep(5)
            rss_after = server.rss_mb()
            training = None
            if args.train_jobs:
                for _ in range(args.train_jobs):
                    await start_training(browser, server.url)
                training = await phase(browser, server, drawn, 1, args.seconds)
            rss_training = server.rss_mb()
            await browser.close()
    print(f"{args.seconds:.0f} s per phase; one Chromium, one server, this {os.cpu_count()}-core machine")
    print(f"{'1 session alone':<38} {alone.summary()}")
    print(f"{f'{args.sessions} sessions at once':<38} {crowd.summary()}")
    if training is not None:
        print(f"{f'1 session, {args.train_jobs} CNN runs training':<38} {training.summary()}")
    print(f"server RSS: {rss_before:.0f} MB after one session, {rss_crowd:.0f} MB with {args.sessions} sessions, "
          f"{rss_after:.0f} MB once they left" + (f", {rss_training:.0f} MB while training" if training else ""))
    for name, tally in (("alone", alone), ("crowd", crowd), ("training", training)):
        if tally and tally.errors:
            print(f"errors ({name}): {sorted(set(tally.errors))[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--train-jobs", type=int, default=2)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
