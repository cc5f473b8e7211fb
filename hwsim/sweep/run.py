"""Run a sweep: expand its points, skip the ones the store has, evaluate the rest, store each result."""
from __future__ import annotations

import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from tqdm import tqdm

from hwsim.sweep.executors import run_points
from hwsim.sweep.points import Point, expand, hwsim_version
from hwsim.sweep.spec import Sweep
from hwsim.sweep.store import ResultStore


def default_store(sweep: Sweep) -> Path:
    return Path("results") / "sweeps" / sweep.spec.name / "points.jsonl"


def open_store(path: Path, consequence: str) -> ResultStore:
    """The store at `path`, after one warning line per corrupt line it dropped: 'FILE:LINE: corrupt
    result, <consequence>' (a warning, not an error: the point is simply evaluated again)."""
    store = ResultStore(path)
    for line in store.corrupt:
        print(f"{path}:{line}: corrupt result, {consequence}", file=sys.stderr)
    return store


@dataclass
class SweepResult:
    sweep: Sweep
    points: list[Point]
    records: dict[str, dict]     # point key -> stored record, for every finished point
    computed: int                # points evaluated by this run
    removed: int                 # parameter sets the constraints removed

    def record(self, point: Point) -> Optional[dict]:
        return self.records.get(point.key)

    @property
    def failures(self) -> list[tuple[Point, dict]]:
        return [(p, r) for p in self.points if (r := self.records.get(p.key)) and r["status"] == "error"]

    def rows(self, metrics: Optional[list[str]] = None) -> list[dict]:
        """One flat row per point: index, workload, parameters, metrics, status, error, key."""
        metrics = metrics or self.sweep.spec.metrics
        rows = []
        for point in self.points:
            record = self.records.get(point.key) or {"status": "missing"}
            values = record.get("metrics", {})
            row = {"point": point.index, "workload": point.workload, **point.params}
            for metric in metrics:
                value = values.get(metric)
                if isinstance(value, dict):     # time_by_kind_s -> one column per kind
                    row.update({f"{metric}.{k}": v for k, v in value.items()})
                else:
                    row[metric] = value
            row.update(status=record["status"], error=record.get("error", ""), key=point.key)
            rows.append(row)
        return rows


def read_results(sweep: Sweep, store_path=None, evaluator: Optional[str] = None) -> SweepResult:
    """The sweep's points with whatever results the store holds; evaluates nothing."""
    points, removed = expand(sweep, evaluator)
    store_path = Path(store_path) if store_path else default_store(sweep)
    if not store_path.exists():
        raise FileNotFoundError(f"no results at {store_path}: run the sweep first")
    with open_store(store_path, "skipped (run the sweep again to recompute it)") as store:
        records = {p.key: store.get(p.key) for p in points if p.key in store}
    return SweepResult(sweep, points, records, 0, removed)


def run_sweep(sweep: Sweep, store_path=None, *, jobs: int = 1, cluster=None, evaluator: Optional[str] = None,
              retry_failed: bool = False, progress: bool = True, limit: Optional[int] = None) -> SweepResult:
    """Evaluate every point the store does not hold yet (and failed ones if `retry_failed`).

    `limit` stops after that many newly evaluated points (to try a sweep on a few points first).
    """
    points, removed = expand(sweep, evaluator)
    store_path = Path(store_path) if store_path else default_store(sweep)
    with open_store(store_path, "recomputing") as store:
        def needed(point: Point) -> bool:
            record = store.get(point.key)
            return record is None or (retry_failed and record["status"] == "error")

        pending = list({p.key: p for p in points if needed(p)}.values())[:limit]
        by_key = {p.key: p for p in pending}
        failed = 0
        # closing(): an interrupt stops the executor's workers at once, wherever it lands
        with tqdm(total=len(pending), unit="pt", desc=sweep.spec.name, disable=not progress or not pending,
                  file=sys.stderr, dynamic_ncols=True) as bar, \
                closing(run_points(((p.key, p.task) for p in pending), jobs=jobs, cluster=cluster)) as results:
            for key, result in results:
                point = by_key[key]
                store.add({"key": key, **result, "hwsim": hwsim_version(),
                           "workload": point.workload, "params": point.params})
                failed += result["status"] == "error"
                bar.set_postfix(failed=failed, refresh=False)
                bar.update()
        records = {p.key: store.get(p.key) for p in points if p.key in store}
    return SweepResult(sweep, points, records, len(pending), removed)
