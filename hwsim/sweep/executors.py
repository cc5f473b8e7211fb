"""Where points run: in this process (-j 1), a local process pool (-j N), or a Dask cluster.

Each executor takes (key, task) pairs and yields (key, result) as points finish, in any order.
Only a bounded window of points is in flight (a few per worker), so a sweep of a million points
holds little memory and a killed sweep loses at most the points that were running.
"""
from __future__ import annotations

import importlib
import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Iterable, Iterator

from hwsim.sweep.evaluate import evaluate

IN_FLIGHT_PER_WORKER = 4
MAX_DASK_CHUNK = 16
# fork: workers start with hwsim imported; measured fastest (benchmarks/sweep.py: fork, then
# forkserver, spawn last). forkserver preloads PRELOAD but freezes the environment of its first use.
START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
PRELOAD = ["hwsim.sweep.evaluate", "hwsim.step", "hwsim.components.catalog"]


def _warm_up() -> None:
    """Import the simulator once per worker so the first point does not pay for it."""
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
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_warm_up) as pool:
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


def evaluate_chunk(tasks: list[dict]) -> list[dict]:
    return [evaluate(task) for task in tasks]


def run_dask(tasks: Iterable[tuple[str, dict]], cluster) -> Iterator[tuple[str, dict]]:
    """`cluster`: a scheduler address ('tcp://host:8786') or a distributed.Client.

    Points travel in chunks (up to MAX_DASK_CHUNK, at least IN_FLIGHT_PER_WORKER chunks per worker)
    because a Dask task costs the client milliseconds, a large share of a point.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RuntimeError("--cluster needs Dask distributed: pip install 'hwsim[cluster]'") from None
    client = cluster if isinstance(cluster, Client) else Client(cluster)
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
        if client is not cluster:
            client.close()


def run_points(tasks: Iterable[tuple[str, dict]], jobs: int = 1, cluster=None) -> Iterator[tuple[str, dict]]:
    if cluster is not None:
        return run_dask(tasks, cluster)
    if jobs <= 1:
        return run_serial(tasks)
    return run_processes(tasks, jobs)
