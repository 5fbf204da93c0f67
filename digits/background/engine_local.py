"""The local engine: each job's task runs in a plain Python process of its own at lower priority,
watched over a pipe by a thread of this one.

A separate process keeps training from taking the CPU, TensorFlow's thread pools and the GIL from
everything else the server does, and gives its memory back when it ends.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import threading
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from digits.background.jobs import Job, JobStatus, StopRequest, Task, TaskMessage, TaskResult, failure

if TYPE_CHECKING:
    from digits.store import ModelStore

# Training runs at this much lower priority than the server (nice 10: about a tenth of a core's share when
# both want the CPU), so readings on the Draw page stay quick while models train.
TRAINING_NICENESS = 10


class LocalEngine:
    """At most ``max_running`` tasks run at once on this machine, ``niceness`` below this process's priority;
    the rest wait their turn."""

    name = "local"

    def __init__(self, max_running: int = 2, niceness: int = TRAINING_NICENESS) -> None:
        self._max_running = max_running
        self._niceness = niceness
        self._slots = threading.BoundedSemaphore(max_running)

    @property
    def max_running(self) -> int:
        return self._max_running

    def job(self, task: Task, store: ModelStore | None, job_id: str = "") -> LocalJob:
        return LocalJob(task, store, self._slots, job_id, self._niceness)


class LocalJob(Job):
    """A job whose task runs in a child process (see task_process)."""

    def __init__(self, task: Task, store: ModelStore | None = None, slots: threading.Semaphore | None = None,
                 job_id: str = "", niceness: int = TRAINING_NICENESS) -> None:
        super().__init__(task, store, slots, job_id)
        self._niceness = niceness
        self._connection: Connection | None = None  # to the task's process, while there is one
        self.pid: int | None = None  # of the task's process, while there is one
        self._set_engine(node_id=platform.node())

    def _request_stop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):  # it has just ended
                self._connection.send(StopRequest())

    def _execute(self) -> TaskResult:
        # A plain `python -c`, not multiprocessing's spawn: under Streamlit, spawn would run the app's
        # script (Streamlit's __main__) once more in the new process, in bare mode.
        connection, child_end = multiprocessing.Pipe()
        process = subprocess.Popen(
            [sys.executable, "-c", "from digits.background.engine_local import task_process; task_process()",
             str(child_end.fileno()), str(self._niceness)],
            pass_fds=[child_end.fileno()], env={**os.environ, "PYTHONPATH": _import_path()},
        )
        child_end.close()  # the child holds the only other end now, so its exit ends the reading below
        self.pid = process.pid
        connection.send(self.task)
        with self._lock:
            self._connection = connection  # from now on stop() tells the process itself
            if self.stop_requested:
                connection.send(StopRequest())
        try:
            while True:
                try:
                    message: TaskMessage | TaskResult = receive(connection)
                except EOFError:
                    break
                if isinstance(message, TaskResult):
                    return message
                self._receive(message)
        finally:
            with self._lock:
                self._connection = None
            connection.close()
            process.wait()
            self.pid = None
        return TaskResult(JobStatus.FAILED, error=f"The training process ended unexpectedly (exit code "
                                                  f"{process.returncode}); the server may be short of memory.",
                          lost=True)


def receive(connection: Connection) -> object:
    """The next message on ``connection``, waiting in ``poll`` first (EOFError once the other end is gone).

    Measured: a thread blocked in ``recv`` itself (a blocking read on the pipe) slowed training in the same
    process by about 40% (a CNN's 2 epochs: 17 s instead of 12 s); one waiting in ``poll`` costs nothing."""
    connection.poll(None)
    return connection.recv()


def _import_path() -> str:
    """PYTHONPATH for the task's process: this package's folder first, then what it had."""
    inherited = os.environ.get("PYTHONPATH")
    here = str(Path(__file__).resolve().parents[2])  # the folder holding the digits package
    return here + (os.pathsep + inherited if inherited else "")


def task_process() -> None:
    """The task's process (see LocalJob._execute): runs the task it is sent, its messages sent back.

    If the server goes, even killed, the connection breaks and this process ends at once: a run nobody
    can see must not go on holding the CPU. The server, started again, carries the run on from its last
    finished epoch (digits.background.journal).
    """
    server = Connection(int(sys.argv[1]))
    # Ctrl-C in the server's terminal reaches this process too: the server's going ends it (below), not the key,
    # so a run never looks lost to a server that is still there and shutting down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):
        os.nice(int(sys.argv[2]))
    task: Task = server.recv()
    stop_event = threading.Event()

    def listen() -> None:
        try:
            while True:
                if isinstance(receive(server), StopRequest):
                    stop_event.set()
        except (EOFError, OSError):
            os._exit(1)

    threading.Thread(target=listen, name="listen-to-server", daemon=True).start()
    try:
        result = task.run(server.send, stop_event)
    except Exception as error:
        traceback.print_exc()
        result = failure(error)
    server.send(result)
