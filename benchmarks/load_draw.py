"""Many people drawing at once: browser sessions (real Chromium) replaying pen-drawn UNIPEN digits on
the Draw page of one server, measuring mouse-up to prediction shown, against one session alone;
then one session drawing while training runs on the same server; and the server's memory before,
during and after the sessions.

    PYTHONPATH=. python benchmarks/load_draw.py [--sessions 10] [--seconds 60] [--train-jobs 2]

Needs Debian's chromium and DIGITS_DATA_DIR (for the training phase); the drawings are the shipped pen digits
unless DIGITS_DRAWN_DATA names others. The sessions themselves are in harness/load.py, shared with
tests/test_load.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from digits.unipen import load_drawn_digits
from harness.browser import app_env, streamlit_server
from harness.load import measure


async def main_async(args: argparse.Namespace) -> None:
    drawn = load_drawn_digits()
    scratch = Path(tempfile.mkdtemp(prefix="load-draw-"))
    with streamlit_server(app_env(scratch, os.environ.get("DIGITS_DATA_DIR"))) as server:
        report = await measure(server, drawn, args.sessions, args.seconds, args.train_jobs)
    print(f"{args.seconds:.0f} s per phase; one Chromium, one server, this {os.cpu_count()}-core machine")
    phases = {"1 session alone": report.alone, f"{args.sessions} sessions at once": report.crowd,
              f"{args.sessions} sessions again": report.crowd_again}
    if report.training is not None:
        phases[f"1 session, {args.train_jobs} CNN runs training"] = report.training
    for name, tally in phases.items():
        print(f"{name:<34} {tally.summary()}")
    if report.runs_started:
        print(f"training runs asked for: {len(report.runs_started)}; trained at once: {sum(report.runs_started)}; "
              f"told to wait: {report.runs_started.count(False)}")
    print("server RSS: " + ", ".join(f"{mb:.0f} MB {point}" for point, mb in report.rss.items())
          + (f"; training processes {report.training_rss:.0f} MB" if report.training is not None else ""))
    for name, tally in phases.items():
        if tally.errors:
            print(f"errors ({name}): {sorted(set(tally.errors))[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--train-jobs", type=int, default=2)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
