"""Driving the app in a real browser, for the browser tests and the benchmarks alike."""
