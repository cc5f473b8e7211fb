"""Where points run: in this process (-j 1), a local process pool (-j N), or a Dask cluster.

Each executor takes (key, task) pairs and yields (key, result) as points finish, in any order.
Only a bounded window of points is in flight (a few per worker), so a sweep of a million points
holds little memory and a killed sweep loses at most the points that were running. However the
sweep ends (it returns, raises, is interrupted or killed), no local worker process outlives it.
"""
from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Iterable, Iterator

from hwsim.sweep.evaluate import evaluate

IN_FLIGHT_PER_WORKER = 4
MAX_DASK_CHUNK = 16
CONNECT_TIMEOUT_S = 10
# fork: workers start with hwsim imported; measured fastest (benchmarks/sweep.py: fork, then
# forkserver, spawn last). forkserver preloads PRELOAD but freezes the environment of its first use.
START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
PRELOAD = ["hwsim.sweep.evaluate", "hwsim.step", "hwsim.components.catalog"]
PR_SET_PDEATHSIG = 1                  # from <linux/prctl.h>
PARENT_POLL_S = 1.0


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _die_with_parent(parent: int | None) -> None:
    """End this worker as soon as its parent is gone, however the parent ended.

    On Linux the kernel sends the worker SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG):
    it works when the parent is killed with SIGKILL, acts at once, costs nothing while the parent
    lives, and reaches a worker busy in a long numba kernel (which holds the GIL, so a watchdog
    thread would have to wait). SIGKILL is safe because a worker holds nothing worth saving: only
    the sweep process writes the store. Other systems get a daemon thread that polls the parent's pid.

    `parent` is the pid the worker's parent had when the pool was made (the sweep process), to catch
    a parent that died before the worker got here; None with the forkserver start method, where the
    parent is the fork server, which itself ends when the sweep process does.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _start_worker(parent: int | None) -> None:
    """Pool initializer: tie the worker to its parent, leave signals to the parent, import the simulator.

    Ctrl-C reaches the whole process group; workers ignore SIGINT so that only the parent reacts (it
    stops the pool at once, see run_processes), and a forked worker drops any SIGTERM handler the parent
    had installed, so SIGTERM simply ends it. Imports happen once per worker, not once per point.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    for module in PRELOAD:
        importlib.import_module(module)


def run_serial(tasks: Iterable[tuple[str, dict]]) -> Iterator[tuple[str, dict]]:
    for key, task in tasks:
        yield key, evaluate(task)


def run_processes(tasks: Iterable[tuple[str, dict]], jobs: int,
                  start_method: str | None = None) -> Iterator[tuple[str, dict]]:
    context = multiprocessing.get_context(start_method or START_METHOD)
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(PRELOAD)
    tasks = iter(tasks)
    parent = None if context.get_start_method() == "forkserver" else os.getpid()
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(parent,))
    try:
        running = {}
        while True:
            while len(running) < jobs * IN_FLIGHT_PER_WORKER:
                item = next(tasks, None)
                if item is None:
                    break
                running[pool.submit(evaluate, item[1])] = item[0]
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield running.pop(future), future.result()
    except BaseException:
        # Ctrl-C, SIGTERM, a broken pool, or the caller closed this generator: do not wait for the
        # points in flight (seconds each). Python < 3.14 has no public way to kill the workers.
        for process in list(pool._processes.values()):
            process.kill()
        raise
    finally:
        pool.shutdown(cancel_futures=True)


def evaluate_chunk(tasks: list[dict]) -> list[dict]:
    return [evaluate(task) for task in tasks]


def connect(cluster):
    """`cluster` if it is a distributed.Client, else a client of that scheduler address (or Dask cluster
    object), or ConnectionError/ValueError (one line) within CONNECT_TIMEOUT_S: Dask would otherwise
    retry an unreachable scheduler for its configured 30 s."""
    try:
        from distributed import Client
    except ImportError:
        raise RuntimeError("--cluster needs Dask distributed: pip install 'hwsim[cluster]'") from None
    if isinstance(cluster, Client):
        return cluster
    try:
        return Client(cluster, timeout=CONNECT_TIMEOUT_S)
    except OSError as exc:               # refused, unresolvable, timed out
        raise ConnectionError(f"cannot reach the Dask scheduler: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"--cluster {cluster}: not a Dask scheduler address ({exc})") from None


def run_dask(tasks: Iterable[tuple[str, dict]], cluster) -> Iterator[tuple[str, dict]]:
    """`cluster`: a scheduler address ('tcp://host:8786'), a Dask cluster object or a distributed.Client.

    Connects at once, not when the first result is asked for, so that an unreachable scheduler is
    an error before any progress is shown. Points travel in chunks (up to MAX_DASK_CHUNK, at least
    IN_FLIGHT_PER_WORKER chunks per worker) because a Dask task costs the client milliseconds, a
    large share of a point.
    """
    client = connect(cluster)
    return _dask_results(client, tasks, close=client is not cluster)


def _dask_results(client, tasks: Iterable[tuple[str, dict]], close: bool) -> Iterator[tuple[str, dict]]:
    from distributed import as_completed

    try:
        tasks = list(tasks)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        size = max(1, min(MAX_DASK_CHUNK, len(tasks) // (workers * IN_FLIGHT_PER_WORKER)))
        chunks = iter([tasks[i:i + size] for i in range(0, len(tasks), size)])
        running = as_completed()
        keys = {}

        def submit_next() -> None:
            chunk = next(chunks, None)
            if chunk is not None:
                future = client.submit(evaluate_chunk, [task for _, task in chunk], pure=False)
                keys[future.key] = [key for key, _ in chunk]
                running.add(future)

        for _ in range(workers * IN_FLIGHT_PER_WORKER):
            submit_next()
        for future in running:
            yield from zip(keys.pop(future.key), future.result())
            future.release()
            submit_next()
    finally:
        if close:
            client.close()


def run_points(tasks: Iterable[tuple[str, dict]], jobs: int = 1, cluster=None) -> Iterator[tuple[str, dict]]:
    if cluster is not None:
        return run_dask(tasks, cluster)
    if jobs <= 1:
        return run_serial(tasks)
    return run_processes(tasks, jobs)
