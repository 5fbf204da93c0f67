"""Streamlit glue shared by the pages: cached resources, the current model, the session's job.

The logic lives in ``digits``; this package only adapts it to Streamlit's reruns and caches.
"""
