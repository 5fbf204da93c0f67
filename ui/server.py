"""Settings of the Streamlit server process that the app needs but Streamlit's config cannot express.

After every script run Streamlit calls ``keras.backend.clear_session()`` (its
``script_runner._clean_problem_modules``), meant for apps that build a new model in each run. This
app builds models only in cached resources and training processes, so the call does it no good, and
it costs a full garbage collection plus a flush of TensorFlow's kernel cache while holding the GIL.
Profiled with py-spy while 10 people drew at once, it and Streamlit's own post-run collection
(turned off in .streamlit/config.toml, ``runner.postScriptGC``) took about 80% of the script
threads' time and stalled every other session. Python's own garbage collector still runs as usual.
"""

from __future__ import annotations

import functools
import gc

from streamlit.runtime.scriptrunner import script_runner


def _no_cleanup() -> None:
    """Streamlit's cleanup touches only Keras and matplotlib; this app uses plotly, not matplotlib."""


def keep_keras_state_between_runs() -> None:
    """Stop Streamlit from clearing Keras's session after each script run (see the module docstring)."""
    script_runner._clean_problem_modules = _no_cleanup


@functools.cache
def freeze_loaded_objects() -> None:
    """Once, after TensorFlow and a first model have loaded: put every object alive now out of the
    garbage collector's sight (``gc.freeze``).

    TensorFlow and Keras leave hundreds of thousands of long-lived objects that every full collection
    walks again, holding the GIL: pauses of 50-300 ms, 8 of them in a 30 s run with 10 people drawing,
    each stalling every session. What loads later (other models) is collected as usual.
    """
    gc.collect()
    gc.freeze()
