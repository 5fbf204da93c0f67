"""Many people drawing at once: browser sessions (real Chromium) replaying pen-drawn UNIPEN digits on the Draw page
of one server, timing mouse-up to prediction shown; one session drawing while training runs; the server's memory
before, during and after. benchmarks/load_draw.py prints it; tests/test_load.py asserts what must always hold."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
from playwright.async_api import Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from digits.unipen import DrawnDigit, random_box, strokes_to_canvas_points
from harness.browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DRAWING_LAYER,
    INK_PIXELS_JS,
    LATENCY_PROBE_JS,
    POLL_MS,
    SHOWN_JS,
    Server,
    process_tree_cpu_seconds,
)

READ_TIMEOUT = 10.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    # of each reading, seconds from the mouse-up: the canvas sent it, the server's last message came, the
    # heat map showed
    sent: list[float] = field(default_factory=list)
    heard: list[float] = field(default_factory=list)
    heat_maps: list[float] = field(default_factory=list)
    read: int = 0
    errors: list[str] = field(default_factory=list)
    # CPU seconds the phase cost the server process, its training processes, and the clients (this
    # script, Playwright's driver and Chromium)
    server_cpu: float = 0.0
    training_cpu: float = 0.0
    client_cpu: float = 0.0

    def add(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.sent += other.sent
        self.heard += other.heard
        self.heat_maps += other.heat_maps
        self.read += other.read
        self.errors += other.errors

    def summary(self) -> str:
        if not self.latencies:
            return f"{self.read} read, {len(self.errors)} errors"
        answer = [heard - sent for sent, heard in zip(self.sent, self.heard, strict=True)]
        drawing = [shown - heard for heard, shown in zip(self.heard, self.latencies, strict=True)]
        return (f"{self.read:4d} drawings read, {len(self.errors)} errors, mouse-up to prediction "
                f"{spread(self.latencies)}; of which canvas wait {spread(self.sent)}, server's answer "
                f"{spread(answer)}, browser drawing it {spread(drawing)}; heat map {spread(self.heat_maps)}; "
                f"CPU s: server {self.server_cpu:.0f}, training {self.training_cpu:.0f}, "
                f"clients {self.client_cpu:.0f}")


def spread(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


async def draw_once(page: Page, digit: DrawnDigit, rng: np.random.Generator, tally: Tally) -> str | None:
    """Replay one pen-drawn digit anywhere on the canvas; tally how long its reading took, and return it
    (None if none came)."""
    box = await page.locator("canvas.upper-canvas").bounding_box()
    strokes = strokes_to_canvas_points(digit.strokes, random_box(rng))
    for stroke in strokes:
        await page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        await page.mouse.down()
        for x, y in stroke[1:]:
            await page.mouse.move(box["x"] + x, box["y"] + y)
        await page.mouse.up()
    text = None
    try:  # the reading of the whole drawing, timed in the page (LATENCY_PROBE_JS)
        settled = await page.wait_for_function("() => window.__reading.settled", polling=POLL_MS,
                                               timeout=READ_TIMEOUT * 1000)
        await settled.dispose()
        reading = await page.evaluate("() => window.__reading")
        tally.latencies.append(reading["latency"] / 1000)
        tally.sent.append(reading["sent"] / 1000)
        tally.heard.append(reading["heard"] / 1000)
        if reading["heat_map"] is not None:
            tally.heat_maps.append(reading["heat_map"] / 1000)
        tally.read += 1
        text = reading["text"]
    except PlaywrightTimeout:
        shown = await page.evaluate(SHOWN_JS)
        path = ARTIFACTS / f"load-not-read-{len(tally.errors)}-{id(page)}.png"
        await page.screenshot(path=str(path))
        tally.errors.append(f"not read within {READ_TIMEOUT:.0f} s (showing {shown[0]!r}; see {path.name})")
    if await page.locator("[data-testid=stException]").count():
        tally.errors.append("exception shown")
    return text


async def clear(page: Page, tally: Tally) -> None:
    """Click Clear and wait, as a person would, until the canvas is empty (it empties in the browser; the
    server hears of it a moment later, and a stroke begun meanwhile is kept: tests/test_browser.py)."""
    await page.get_by_role("button", name="Clear").click()
    try:
        layer = await page.locator(DRAWING_LAYER).element_handle()
        await page.wait_for_function(f"canvas => ({INK_PIXELS_JS})(canvas) === 0", arg=layer, polling=POLL_MS,
                                     timeout=READ_TIMEOUT * 1000)
    except PlaywrightTimeout:
        path = ARTIFACTS / f"load-not-cleared-{len(tally.errors)}-{id(page)}.png"
        # A canvas replaced meanwhile (a remount loses strokes) differs from one slow to clear.
        replaced = not await layer.evaluate("canvas => canvas.isConnected")
        ink = await page.locator(DRAWING_LAYER).evaluate(INK_PIXELS_JS)
        await page.screenshot(path=str(path))
        tally.errors.append(f"Clear did not empty the canvas within {READ_TIMEOUT:.0f} s (canvas replaced: {replaced}; "
                            f"{ink} inked pixels on the canvas now; see {path.name})")


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
            await clear(page, tally)
            await asyncio.sleep(1.0)  # and picks up the pen again
    except Exception as error:  # a crashed session is an error to report, not a crashed benchmark
        tally.errors.append(f"{type(error).__name__}: {error}")
    finally:
        await context.close()
    return tally


async def start_training(browser, url: str) -> bool:
    """Start a CNN run from the Train page of a session of its own, as another person would; True if it
    trains, False if it has to wait for a free slot."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1100})
    page = await context.new_page()
    await page.goto(f"{url}/train")
    await page.wait_for_selector("h1")
    await asyncio.sleep(1.5)
    await page.get_by_text("Convolutional network: looks for").click()
    await asyncio.sleep(1.0)
    await page.get_by_role("button", name="Start training").click()
    training = page.locator("[data-testid=stProgress]")
    waiting = page.get_by_text("Waiting for a free training slot")
    await training.or_(waiting).first.wait_for(timeout=120_000)
    return await training.count() > 0


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


@dataclass
class LoadReport:
    alone: Tally
    crowd: Tally
    crowd_again: Tally
    training: Tally | None
    runs_started: list[bool]  # for each training run started: whether it trained at once (else it waits)
    rss: dict[str, float]  # the server's resident memory (MB) at each point
    training_rss: float  # of the training processes, while they train


async def measure(server: Server, drawn: list[DrawnDigit], sessions: int, seconds: float,
                  train_jobs: int) -> LoadReport:
    """One session alone; ``sessions`` at once, twice (memory left behind by a crowd shows as growth from
    the first to the second); then one session while ``train_jobs`` runs train and one more is asked for."""
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        rss = {"started": server.rss_mb()}
        alone = await phase(browser, server, drawn, 1, seconds)  # also loads the model and warms up
        rss["after one session"] = server.rss_mb()
        crowd = await phase(browser, server, drawn, sessions, seconds)
        rss[f"with {sessions} sessions"] = server.rss_mb()
        await asyncio.sleep(5)
        rss["once they left"] = server.rss_mb()
        crowd_again = await phase(browser, server, drawn, sessions, seconds)
        await asyncio.sleep(5)
        rss[f"after {sessions} more came and went"] = server.rss_mb()
        training, runs_started, training_rss = None, [], 0.0
        if train_jobs:
            runs_started = [await start_training(browser, server.url) for _ in range(train_jobs + 1)]
            training = await phase(browser, server, drawn, 1, seconds)
            rss["while training"], training_rss = server.rss_mb(), server.children_rss_mb()
        await browser.close()
    return LoadReport(alone, crowd, crowd_again, training, runs_started, rss, training_rss)


