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
    stale_reused: int = 0        # points whose record comes from another simulator build (reuse_stale)
    stale_recomputed: int = 0    # points evaluated now because only another build's record was stored

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


def stored_records(store: ResultStore, points: list[Point], reuse_stale: bool) -> tuple[dict[str, dict], int]:
    """The record of each point that has one, by point key, and how many points have only a record of
    another simulator build (`stale`: included in the records only if `reuse_stale`).

    A stale record is the latest one with the point's inputs; records written before keys held the code
    fingerprint have no "inputs" field: their key is their inputs hash.
    """
    by_inputs = {record.get("inputs", record["key"]): record for record in store.records.values()}
    records, stale = {}, 0
    for point in points:
        record = store.get(point.key)
        if record is None and point.inputs in by_inputs:
            stale += 1
            record = by_inputs[point.inputs] if reuse_stale else None
        if record is not None:
            records[point.key] = record
    return records, stale


def read_results(sweep: Sweep, store_path=None, evaluator: Optional[str] = None,
                 reuse_stale: bool = False) -> SweepResult:
    """The sweep's points with whatever results of this simulator build (or any, if `reuse_stale`) the
    store holds; evaluates nothing."""
    points, removed = expand(sweep, evaluator)
    store_path = Path(store_path) if store_path else default_store(sweep)
    if not store_path.exists():
        raise FileNotFoundError(f"no results at {store_path}: run the sweep first")
    with open_store(store_path, "skipped (run the sweep again to recompute it)") as store:
        records, stale = stored_records(store, points, reuse_stale)
    return SweepResult(sweep, points, records, 0, removed, stale_reused=stale if reuse_stale else 0)


def run_sweep(sweep: Sweep, store_path=None, *, jobs: int = 1, cluster=None, evaluator: Optional[str] = None,
              retry_failed: bool = False, reuse_stale: bool = False, progress: bool = True,
              limit: Optional[int] = None) -> SweepResult:
    """Evaluate every point the store does not hold yet (and failed ones if `retry_failed`).

    A result stored by another simulator build (another code fingerprint) counts as missing, unless
    `reuse_stale`. `limit` stops after that many newly evaluated points (to try a sweep on a few points first).
    """
    points, removed = expand(sweep, evaluator)
    store_path = Path(store_path) if store_path else default_store(sweep)
    with open_store(store_path, "recomputing") as store:
        records, stale_before = stored_records(store, points, reuse_stale)

        def needed(point: Point) -> bool:
            record = records.get(point.key)
            return record is None or (retry_failed and record["status"] == "error")

        pending = list({p.key: p for p in points if needed(p)}.values())[:limit]
        by_key = {p.key: p for p in pending}
        failed = 0
        # the executor first (a cluster that cannot be reached fails before a progress bar shows);
        # closing(): an interrupt stops the executor's workers at once, wherever it lands
        with closing(run_points(((p.key, p.task) for p in pending), jobs=jobs, cluster=cluster)) as results, \
                tqdm(total=len(pending), unit="pt", desc=sweep.spec.name, disable=not progress or not pending,
                     file=sys.stderr, dynamic_ncols=True) as bar:
            for key, result in results:
                point = by_key[key]
                store.add({"key": key, "inputs": point.inputs, **result, "hwsim": hwsim_version(),
                           "workload": point.workload, "params": point.params})
                failed += result["status"] == "error"
                bar.set_postfix(failed=failed, refresh=False)
                bar.update()
        records, stale = stored_records(store, points, reuse_stale)
    return SweepResult(sweep, points, records, len(pending), removed,
                       stale_reused=stale if reuse_stale else 0, stale_recomputed=stale_before - stale)
