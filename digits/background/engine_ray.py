"""The Ray engine: each job's task runs in a Ray actor somewhere on a cluster (DIGITS_RAY_ADDRESS).

The actor runs the task in one thread and answers the app from others (a threaded actor): the app asks
it for news every UPDATE_SECONDS and tells it to stop; the task's result, the model as the bytes of a
.keras file, comes back through Ray's object store and the job saves it in the app's own store, so the
cluster needs no shared filesystem. The app ships this package to the cluster itself (Ray's py_modules),
so workers need only Ray, TensorFlow and the other requirements installed. The data are loaded here, where
the app found them, and put in the object store once per engine; every run reads that copy.

Ray queues runs past the cluster's free CPUs on its own. A run whose worker or machine is lost carries on from
its last finished epoch (digits.checkpoints) in a new actor on another machine, when the cluster has one with room
for it; with none left it ends as "failed" with a plain message, and the next runs go on.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digits.background.engine_local import TRAINING_NICENESS
from digits.background.jobs import (
    LOST_MACHINE,
    EngineUnavailable,
    Job,
    JobStatus,
    Task,
    TaskMessage,
    TaskResult,
    failure,
)
from digits.training import UPDATE_SECONDS

if TYPE_CHECKING:
    from digits.store import ModelStore

CPUS_PER_RUN_ENV = "DIGITS_RAY_CPUS_PER_RUN"
DEFAULT_CPUS_PER_RUN = 1
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the digits package, shipped to the cluster whole
# Threads of one actor: one runs the task, the others answer "any news?" and "stop" meanwhile.
ACTOR_THREADS = 4

_connection_lock = threading.Lock()


def connect(address: str) -> None:
    """Join the cluster at ``address`` as a client (once per process; a different address reconnects)."""
    import ray

    with _connection_lock:
        if ray.is_initialized():
            if getattr(connect, "address", None) == address:
                return
            ray.shutdown()
        ray.init(address=address, runtime_env={"py_modules": [str(PACKAGE_DIR)]}, log_to_driver=False,
                 logging_level="WARNING", configure_logging=False)
        connect.address = address  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Given:
    """A task's ``load_data`` on the worker: the data the app put in the object store."""

    data: Any

    def __call__(self) -> Any:
        return self.data


class TaskRunner:
    """Becomes a Ray actor (see RayJob): runs one task, keeps its messages for the app to collect."""

    def __init__(self, cpus: int) -> None:
        # At the local engine's lower priority, so a machine that also serves the app stays quick to answer.
        if hasattr(os, "nice"):
            os.nice(TRAINING_NICENESS)
        # TensorFlow would use every core of the machine; a run gets the CPUs Ray reserved for it.
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(cpus)
        tf.config.threading.set_inter_op_parallelism_threads(cpus)
        self._messages: list[TaskMessage] = []
        self._lock = threading.Lock()
        self._stop_event = threading.Event()

    def node_id(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    def run(self, task: Task, data: Any) -> TaskResult:
        try:
            return dataclasses.replace(task, load_data=_Given(data)).run(self._keep, self._stop_event)
        except Exception as error:
            return failure(error)

    def _keep(self, message: TaskMessage) -> None:
        with self._lock:
            self._messages.append(message)

    def news(self, since: int) -> list[TaskMessage]:
        with self._lock:
            return self._messages[since:]

    def stop(self) -> None:
        self._stop_event.set()


class RayEngine:
    """Runs each task in an actor with ``cpus_per_run`` CPUs on the Ray cluster at ``address``."""

    name = "ray"

    def __init__(self, address: str, cpus_per_run: int | None = None) -> None:
        if importlib.util.find_spec("ray") is None:
            raise EngineUnavailable(f"Training on the Ray cluster at {address} needs Ray on this machine: "
                                    "pip install -r requirements-cluster.txt (or unset DIGITS_RAY_ADDRESS).")
        self.address = address
        self.cpus_per_run = cpus_per_run or int(os.environ.get(CPUS_PER_RUN_ENV) or DEFAULT_CPUS_PER_RUN)
        self._shipped: dict[Callable[[], Any], Any] = {}  # loader -> its data's object ref
        self._shipping = threading.Lock()

    def shipped_data(self, load_data: Callable[[], Any]) -> Any:
        """The object ref of ``load_data()``'s data, put in the object store the first time it is asked for."""
        import ray

        with self._shipping:
            if load_data not in self._shipped:
                connect(self.address)
                self._shipped[load_data] = ray.put(load_data())
            return self._shipped[load_data]

    @property
    def max_running(self) -> int:
        """How many runs the cluster's CPUs hold at once now (Ray queues the others)."""
        import ray

        connect(self.address)
        return max(int(ray.cluster_resources().get("CPU", 0) // self.cpus_per_run), 1)

    def job(self, task: Task, store: ModelStore | None, job_id: str = "") -> RayJob:
        return RayJob(task, self, store, job_id)


class RayJob(Job):
    """A job whose task runs in a Ray actor; "waiting" until the cluster has room for it."""

    status_with_a_slot = JobStatus.WAITING

    def __init__(self, task: Task, engine: RayEngine, store: ModelStore | None = None, job_id: str = "") -> None:
        super().__init__(task, store, None, job_id)
        self._ray = engine
        self._actor: Any = None  # while the run has one
        self._set_engine(name="ray", address=engine.address)

    def _request_stop(self) -> None:
        if self._actor is not None:
            self._actor.stop.remote()

    def _may_carry_on(self) -> bool:
        """Only on another machine with room for the run: the one it was lost with may still look alive."""
        import ray

        lost_node = self.snapshot(with_metrics=False).engine["node_id"]
        return super()._may_carry_on() and any(
            node["Alive"] and node["NodeID"] != lost_node and node["Resources"].get("CPU", 0) >= self._ray.cpus_per_run
            for node in ray.nodes())

    def _execute(self) -> TaskResult:
        import ray
        from ray.exceptions import ActorDiedError, ActorUnavailableError, NodeDiedError, WorkerCrashedError

        engine = self._ray
        data = engine.shipped_data(self.task.load_data)
        cpus = engine.cpus_per_run
        actor = ray.remote(TaskRunner).options(num_cpus=cpus, max_restarts=0,
                                               max_concurrency=ACTOR_THREADS).remote(cpus)
        try:
            placed = actor.node_id.remote()
            while not ray.wait([placed], timeout=UPDATE_SECONDS)[0]:
                if self.stop_requested:
                    return TaskResult(JobStatus.CANCELLED)
            self._set_engine(node_id=ray.get(placed))
            self._set_status(JobStatus.LOADING)
            with self._lock:
                self._actor = actor  # from now on stop() tells the actor itself
                if self.stop_requested:
                    actor.stop.remote()
            return self._follow(actor, actor.run.remote(self.task, data))
        except (ActorDiedError, ActorUnavailableError, NodeDiedError, WorkerCrashedError) as error:
            return TaskResult(JobStatus.FAILED, error=f"{LOST_MACHINE.capitalize()} ({type(error).__name__}) and no "
                                                      "other machine of the cluster could carry the run on. Saved runs "
                                                      "are safe; start it again.", lost=True)
        except Exception as error:
            return failure(error)
        finally:
            with self._lock:
                self._actor = None
            ray.kill(actor)

    def _follow(self, actor: Any, result: Any) -> TaskResult:
        """Pass the actor's news on until its task returns."""
        import ray

        seen = 0
        while True:
            done = ray.wait([result], timeout=UPDATE_SECONDS)[0]
            news = ray.get(actor.news.remote(seen))
            seen += len(news)
            for message in news:
                self._receive(message)
            if done:
                return ray.get(result)
