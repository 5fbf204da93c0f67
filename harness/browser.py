"""Drives the app in Debian's Chromium against a real `streamlit run`: the browser tests and the benchmarks
share it."""

from __future__ import annotations

import itertools
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_NPZ = PROJECT_ROOT / "tests" / "data" / "mnist_sample.npz"

CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps trying to reach the internet, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and shutil.which("streamlit") is not None


# Every browser test module's marks.
BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="needs Debian's chromium (apt-get install chromium)"),
]


def child_pids(pid: int) -> list[int]:
    """The processes ``pid`` started that are still running, whichever of its threads started them."""
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright."""
    with chromium_and_devices() as (browser, _):
        yield browser


@contextmanager
def chromium_and_devices() -> Iterator[tuple[object, dict[str, dict]]]:
    """Debian's Chromium, headless, and Playwright's device presets ("iPhone 13", ...) for its pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser, driver.devices
        finally:
            browser.close()


@contextmanager
def new_page(browser, **context_options: object) -> Iterator[object]:
    """A page in a browser context of its own (a new browser session for the app), made with these options."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


@contextmanager
def chromium_page(browser, height: int = 1700) -> Iterator[object]:
    """A page of its own, tall enough to show a whole page."""
    with new_page(browser, viewport={"width": 1400, "height": height}) as page:
        yield page


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def rss_mb(self) -> float:
        """The server process's resident memory now."""
        return process_rss_mb(self.pid)

    def children_rss_mb(self) -> float:
        """The resident memory of the server's child processes (training runs) now."""
        return sum(process_rss_mb(child) for child in child_pids(self.pid))

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user and system), not counting its children."""
        return process_cpu_seconds(self.pid)

    def children_cpu_seconds(self) -> float:
        """CPU time used so far by the server's running child processes (training runs)."""
        return sum(process_cpu_seconds(child) for child in child_pids(self.pid))


def process_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:  # ended
        pass
    return 0.0


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) ``pid`` has used so far; 0 once it has ended."""
    try:
        # Fields 14 and 15 of /proc/PID/stat, counted after the parenthesised command name, which may hold spaces.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds(root: int, exclude: int | None = None) -> float:
    """CPU time used so far by ``root`` and its running descendants, leaving out the ``exclude`` subtree."""
    try:
        children = child_pids(root)
    except FileNotFoundError:  # ended while we looked
        children = []
    return process_cpu_seconds(root) + sum(
        process_tree_cpu_seconds(child, exclude) for child in children if child != exclude
    )


def app_env(scratch: Path, data_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Settings for a server of the tests' own: empty model and drawing folders under ``scratch``, and MNIST
    from ``data_dir``, else the committed sample. The browser tests train on the sample: what they check is
    what the pages do, which the sample shows as well as 60,000 digits in a fraction of the time (runs on full
    MNIST kept CI past its half hour); how well models learn is the library tests' and benchmarks' part."""
    if data_dir is None:
        data_dir = scratch / "data"
        data_dir.mkdir(parents=True)
        (data_dir / "mnist.npz").write_bytes(SAMPLE_NPZ.read_bytes())
    for folder in ("models", "drawings"):
        (scratch / folder).mkdir(parents=True)
    return {"DIGITS_DATA_DIR": str(data_dir), "DIGITS_MODELS_DIR": str(scratch / "models"),
            "DIGITS_DRAWINGS_DIR": str(scratch / "drawings")}


@contextmanager
def streamlit_server(env: dict[str, str], timeout: float = 60, port: int | None = None) -> Iterator[Server]:
    """Start the app on ``port`` (default: a free loopback port); yield it; stop it afterwards. The server leads a
    process group of its own, with the training processes it starts: a test can kill them all at once."""
    port = port or free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / f"server-{port}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start; see {log.name}") from None
                time.sleep(0.3)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def set_slider(page, label: str, steps_from_lowest: int) -> None:
    slider = page.get_by_role("slider", name=label)  # a visually hidden range input: focus it, as a keyboard user
    slider.focus()
    slider.press("Home")
    for _ in range(steps_from_lowest):
        slider.press("ArrowRight")
    time.sleep(0.5)


def slider_value(page, label: str) -> str:
    return page.get_by_role("slider", name=label).input_value()


def screenshot(page, name: str) -> Path:  # page: a Playwright page
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))  # Streamlit scrolls inside its own container: full_page adds nothing
    return path


# What the Draw page shows, read in one round trip: the prediction, the last image (the heat map, drawn after
# the answer) and the model's view of the (first) digit: locator calls take tens of ms each and would blur
# the mouse-up-to-prediction timing.
SHOWN_JS = """() => {
  const metric = [...document.querySelectorAll('[data-testid=stMetric]')]
    .find(element => element.innerText.startsWith('Prediction'));
  const images = document.querySelectorAll('[data-testid=stImage] img');
  const view = [...document.querySelectorAll('[data-testid=stImageContainer]')]
    .find(element => element.innerText.includes('What the model sees'));
  return [metric ? metric.querySelector('[data-testid=stMetricValue]').innerText.trim() : '',
          images.length ? images[images.length - 1].getAttribute('src') : null,
          view ? view.querySelector('img').getAttribute('src') : null];
}"""

# Waits for the page poll on a timer, every POLL_MS, not on animation frames, which a busy machine's Chromium
# drawing ten pages at once gives late.
POLL_MS = 100
MOVE_PIXELS = 8  # the longest mouse move of a replayed drag

# The canvas's drawing layer (Fabric.js draws the strokes on it; the background has a canvas of its own), and
# how many of its pixels hold ink (white on black).
DRAWING_LAYER = ".canvas-container:has(canvas.upper-canvas) canvas.lower-canvas"
INK_PIXELS_JS = """canvas => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < pixels.length; i += 4) ink += pixels[i] > 128;
  return ink;
}"""

# True once Clear has taken the reading away, and the model's view of the drawing with it.
CLEARED_JS = f"() => {{ const shown = ({SHOWN_JS})(); return shown[0] === '–' && shown[1] === null; }}"

# Mouse-up to prediction shown, timed inside the page: from each mouse-up, every animation frame compares what
# is shown with what was shown a frame before, until nothing has changed for SETTLE_MS with a reading shown. The
# reading's time is its last change: the canvas sends after every stroke, so a reading of the unfinished drawing
# may still arrive after the last mouse-up, and the person waits for the reading of all of it. The heat map's
# time is the last change of the last image on the page (the heat map, drawn after the answer). A harness
# driving many pages at once then needs no polling round trips, which would load the machine and blur the figure.
# It also notes when the page last sent to the server and last heard from it before the reading showed,
# which splits the time into the canvas's wait, the server's answer and the browser's drawing of it.
SETTLE_MS = 1000
LATENCY_PROBE_JS = f"""(() => {{
  const shown = {SHOWN_JS};
  const times = {{ sent: null, heard: null }};
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {{
    constructor(...args) {{
      super(...args);
      this.addEventListener("message", () => {{ times.heard = performance.now(); }});
    }}
    send(data) {{
      times.sent = performance.now();
      return super.send(data);
    }}
  }};
  let frame = null;
  window.__reading = {{ settled: false }};
  window.addEventListener("mouseup", () => {{
    const upAt = performance.now();
    const reading = {{ latency: null, heat_map: null, text: null, sent: null, heard: null, settled: false }};
    window.__reading = reading;
    let last = shown(), changedAt = upAt;
    cancelAnimationFrame(frame);
    const check = () => {{
      const now = shown(), at = performance.now();
      // A new reading: its text, or only the model's view, when the last stroke left the answer as it was.
      if ((now[0] !== last[0] || now[2] !== last[2]) && now[0] !== "" && now[0] !== "–") {{
        Object.assign(reading, {{ latency: at - upAt, text: now[0], sent: times.sent - upAt,
                                 heard: times.heard - upAt }});
        changedAt = at;
      }}
      if (now[1] !== last[1] && now[1] !== null) {{
        reading.heat_map = at - upAt;
        changedAt = at;
      }}
      last = now;
      if (reading.latency !== null && at - changedAt > {SETTLE_MS}) reading.settled = true;
      else frame = requestAnimationFrame(check);
    }};
    frame = requestAnimationFrame(check);
  }}, true);
}})();"""


# When each of Evaluate's sections first shows, in ms of the page's clock (performance.now()), checked every
# POLL_MS from the moment the page loads: window.__shown[name]. A section counts once its figure is drawn: the
# accuracy metric, the confusion matrix's cells, at least 4 captions of the mistakes' gallery, the pen-drawn
# score, the "not a digit" figures and what the model has learned; and when two sections' headings show.
EVALUATE_SECTIONS_JS = f"""(() => {{
  const metricShown = label => [...document.querySelectorAll('[data-testid=stMetricLabel]')]
    .some(element => element.innerText.trim() === label);
  const headingShown = text => [...document.querySelectorAll('h3')]
    .some(element => element.innerText.trim().startsWith(text));
  const sections = {{
    accuracy: () => metricShown('Test accuracy'),
    matrix: () => document.querySelector('[data-testid=stPlotlyChart] .heatmaplayer .hm') !== null,
    mistakes: () => [...document.querySelectorAll('[data-testid=stPlotlyChart] .annotation-text')]
      .filter(element => element.textContent.includes('→')).length >= 4,
    pen_score: () => metricShown('Drawn digits read right'),
    not_a_digit: () => metricShown('Pen-drawn digits wrongly rejected'),
    learned: () => headingShown('What it has learned'),
    // The headings arrive in the order the page's script writes them; the charts under them are drawn later
    // by plotly in the browser, so a cached page's plain metrics can show before the matrix is drawn.
    matrix_heading: () => headingShown('Which digits it confuses'),
    pen_heading: () => headingShown('Reading digits drawn with a pen'),
  }};
  window.__shown = {{}};
  setInterval(() => {{
    for (const [name, shown] of Object.entries(sections)) {{
      if (!(name in window.__shown) && shown()) window.__shown[name] = performance.now();
    }}
  }}, {POLL_MS});
}})();"""


# --- Reading and driving the pages -------------------------------------------------------------------------

def metric(page, label: str) -> str:
    """The value of the st.metric with this label ('' while it is absent)."""
    locator = page.locator("[data-testid=stMetric]").filter(
        has=page.locator("[data-testid=stMetricLabel]", has_text=re.compile(f"^{re.escape(label)}$"))
    )
    if locator.count() == 0:
        return ""
    return locator.first.locator("[data-testid=stMetricValue]").inner_text().strip()


def wait_for(condition, timeout: float, what: str) -> float:
    """Poll ``condition`` until true; return the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started


def assert_no_exception(page) -> None:
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()


def wait_for_run_to_finish(page, timeout: float = 30) -> None:
    """Wait until the page's script has run to its end: Streamlit marks its root element with the script's state.
    Call it once a run is known to have started (its page's title shows), or it may return before."""
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", state="attached",
                           timeout=timeout * 1000)


def address(page) -> str:
    """The page's address as the browser has it now. (Playwright's ``page.url`` is a copy it updates only while it
    talks to the browser: a loop that reads nothing else never sees the address change.)"""
    return page.evaluate("location.href")


def open_page(page, url: str) -> None:
    """Go to ``url`` and wait until its first run is over, before pressing anything."""
    page.goto(url)
    page.wait_for_selector("h1")
    wait_for_run_to_finish(page)


def draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Replay strokes (canvas pixels) as mouse drags, with a mouse event at least every MOVE_PIXELS as a
    hand's drag gives: the canvas's pen smooths its path through the points it gets, and from a doodle's
    few corners alone (a house's side in one jump) it drew something else."""
    box = page.locator("canvas.upper-canvas").bounding_box()
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for (x0, y0), (x, y) in itertools.pairwise(stroke):
            steps = max(1, math.ceil(math.hypot(x - x0, y - y0) / MOVE_PIXELS))
            page.mouse.move(box["x"] + x, box["y"] + y, steps=steps)
        page.mouse.up()


def draw_and_read(page, strokes: list[list[tuple[float, float]]]) -> tuple[str, float | None]:
    """Replay strokes (canvas pixels) as mouse drags; return the reading of the whole drawing and the
    seconds from the last mouse-up until it showed (None if it showed before the last mouse-up).

    The canvas sends after every stroke, so readings of the unfinished digit may show before and after the
    last mouse-up: wait until what is shown has settled, and time its last change."""
    before = tuple(page.evaluate(SHOWN_JS))
    draw(page, strokes)
    released = time.monotonic()
    shown, last_change = before, None
    while time.monotonic() - released < 15:
        now = tuple(page.evaluate(SHOWN_JS))
        if now[0] != shown[0] or now[2] != shown[2]:
            last_change = time.monotonic()
        shown = now
        if shown[0] not in ("", "–") and time.monotonic() - (last_change or released) > SETTLE_MS / 1000:
            return shown[0], None if last_change is None else last_change - released
        time.sleep(0.005)
    screenshot(page, "draw-not-read")
    raise AssertionError(f"the drawing was not read within 15 s (showing {shown[0]!r})")


def clear(page) -> None:
    """Press Clear and wait until the reading has gone, and the model's view of the drawing with it."""
    page.get_by_role("button", name="Clear").click()
    page.wait_for_function(CLEARED_JS, polling=POLL_MS, timeout=15_000)


# --- Phones and tablets --------------------------------------------------------------------------------------

@contextmanager
def device_page(browser, preset: dict) -> Iterator[object]:
    """A page of its own in one of Playwright's device presets (see chromium_and_devices): its screen size,
    pixel ratio, user agent, touch screen and mobile viewport."""
    with new_page(browser, **{key: value for key, value in preset.items() if key != "default_browser_type"}) as page:
        yield page


def touch_draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Replay strokes (canvas pixels) as a finger's: trusted touch events from the browser's own input
    pipeline (CDP), which scroll and zoom the page unless it says otherwise, as a real finger's do."""
    box = page.locator("canvas.upper-canvas").bounding_box()
    touch = page.context.new_cdp_session(page)

    def at(x: float, y: float) -> list[dict[str, float]]:
        return [{"x": box["x"] + x, "y": box["y"] + y}]

    try:
        for stroke in strokes:
            touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": at(*stroke[0])})
            for (x0, y0), (x, y) in itertools.pairwise(stroke):
                steps = max(1, math.ceil(math.hypot(x - x0, y - y0) / MOVE_PIXELS))
                for step in range(1, steps + 1):
                    touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": at(
                        x0 + (x - x0) * step / steps, y0 + (y - y0) * step / steps)})
            touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        touch.detach()


# Where the page stands: the window's scroll and that of Streamlit's main area (the page scrolls inside it),
# and how wide each is against what it shows (wider means the page scrolls sideways).
SCROLL_JS = """() => {
  const page = document.scrollingElement, main = document.querySelector('[data-testid=stMain]');
  return { windowX: scrollX, windowY: scrollY, pageWidth: page.scrollWidth, screenWidth: innerWidth,
           mainTop: main.scrollTop, mainLeft: main.scrollLeft, mainWidth: main.scrollWidth,
           mainShown: main.clientWidth };
}"""

# The share of the drawing canvas a person sees: its box cut by the screen and by every box around it that
# clips what overflows (across the component's shadow root), over its whole box.
CANVAS_SHOWN_JS = """() => {
  const canvas = [...document.querySelectorAll('*')].map(element => element.shadowRoot).filter(Boolean)
    .map(root => root.querySelector('canvas.upper-canvas')).find(Boolean);
  const whole = canvas.getBoundingClientRect();
  let [left, top, right, bottom] = [whole.left, whole.top, whole.right, whole.bottom];
  const cut = box => { left = Math.max(left, box.left); top = Math.max(top, box.top);
                       right = Math.min(right, box.right); bottom = Math.min(bottom, box.bottom); };
  cut({ left: 0, top: 0, right: innerWidth, bottom: innerHeight });
  for (let node = canvas.parentNode; node; node = node.parentNode || node.host) {
    if (node.nodeType !== 1) continue;
    const style = getComputedStyle(node);
    if (style.overflowX !== 'visible' || style.overflowY !== 'visible') cut(node.getBoundingClientRect());
  }
  return Math.max(0, right - left) * Math.max(0, bottom - top) / (whole.width * whole.height);
}"""
