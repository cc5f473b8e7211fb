"""Points per second of a 200-point sweep: in-process (-j 1), 2 local processes, a 2-worker Dask cluster.

Each configuration evaluates the whole of sweeps/gpu_random_design.yaml (200 seeded random GPU
designs, Llama-2-7B decode) into a fresh store; the time includes starting the pool or cluster
client, as a user running `hwsim sweep -j 2` sees it. Every run must store the same 200 results.
CPU seconds of the parent and of the pool workers are printed too: on a machine shared with other
work the wall-clock ratio understates what a second worker gives, the CPU split does not.

    python benchmarks/sweep.py [--sweep FILE] [--repeat R] [--start-methods forkserver,fork,spawn]
"""
import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from hwsim.sweep import executors, load_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds() -> tuple[float, float]:
    """CPU time of this process and of its finished child processes (pool workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), children.ru_utime + children.ru_stime


def timed_run(sweep, **options) -> tuple[float, float, float, float, dict]:
    """Wall seconds, parent CPU s, worker-process CPU s, summed per-point wall s, tokens/s by point key."""
    with tempfile.TemporaryDirectory() as folder:
        cpu_before, start = cpu_seconds(), time.perf_counter()
        result = run_sweep(sweep, Path(folder) / "points.jsonl", progress=False, **options)
        seconds, cpu_after = time.perf_counter() - start, cpu_seconds()
    failed = len(result.failures)
    assert result.computed == len(result.points) and not failed, \
        f"{failed} points failed, e.g. {result.failures[0][1]['error'] if failed else ''}"
    return (seconds, cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1],
            sum(r["seconds"] for r in result.records.values()),
            {k: r["metrics"]["tokens_per_s"] for k, r in result.records.items()})


def line(label: str, run, points: int, workers: int, serial: float | None = None) -> str:
    """busy: share of the workers' wall time spent inside points (the executor keeps them fed);
    CPU s: time they got on a core (less than busy time when other work shares the machine)."""
    seconds, parent_cpu, worker_cpu, in_points, _ = run
    text = f"  {label:<24} {seconds:6.2f} s  {points / seconds:6.1f} points/s"
    text += f"  {serial / seconds:4.2f}x of -j 1" if serial else " " * 16
    return (text + f"  busy {in_points / (seconds * workers):4.0%}"
            f"  CPU s: parent {parent_cpu:5.2f}, pool workers {worker_cpu:5.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", default=str(ROOT / "sweeps" / "gpu_random_design.yaml"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--start-methods", default="forkserver,fork,spawn")
    args = parser.parse_args()
    sweep = load_sweep(args.sweep)
    with tempfile.TemporaryDirectory() as folder:       # imports and numba caches, before any timing
        run_sweep(sweep, Path(folder) / "warm.jsonl", progress=False, limit=2)

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (other work slows every figure)")
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        configurations = {"-j 1 (in process)": (1, None, {"jobs": 1})}
        for method in args.start_methods.split(","):
            configurations[f"-j 2 ({method})"] = (2, method, {"jobs": 2})
        configurations["Dask LocalCluster 2x1"] = (2, None, {"cluster": client})
        # rounds interleave the configurations, so a burst of other work on the machine hits all alike
        runs = {name: [] for name in configurations}
        for _ in range(args.repeat):
            for name, (_, method, options) in configurations.items():
                executors.START_METHOD = method or executors.START_METHOD
                runs[name].append(timed_run(sweep, **options))
    best = {name: min(found, key=lambda run: run[0]) for name, found in runs.items()}
    serial, reference = best["-j 1 (in process)"][0], best["-j 1 (in process)"][4]
    print(f"{len(reference)}-point sweep {sweep.spec.name}, best of {args.repeat} interleaved rounds")
    for name, run in best.items():
        assert run[4] == reference, f"{name}: results differ from -j 1"
        workers = configurations[name][0]
        print(line(name, run, len(reference), workers, serial if workers > 1 else None))
    print(f"load average after: {os.getloadavg()[0]:.2f}")

if __name__ == "__main__":
    main()
