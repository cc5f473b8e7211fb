"""The text a sweep prints at the end: counts, the best points per objective, the failures."""
from __future__ import annotations

from hwsim.sweep.run import SweepResult

BEST_ROWS = 5
FAILURES_SHOWN = 10


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table(header: list[str], rows: list[list]) -> list[str]:
    """Aligned text columns."""
    cells = [header] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]


def best_points(result: SweepResult, metric: str, goal: str, count: int = BEST_ROWS) -> list[dict]:
    rows = [r for r in result.rows() if r["status"] == "ok" and isinstance(r.get(metric), (int, float))]
    return sorted(rows, key=lambda r: r[metric], reverse=goal == "max")[:count]


def summary(result: SweepResult) -> str:
    spec = result.sweep.spec
    ok = sum(1 for p in result.points if (r := result.record(p)) and r["status"] == "ok")
    failures = result.failures
    missing = sum(1 for p in result.points if result.record(p) is None)
    lines = [f"sweep {spec.name}: {len(result.points)} points, {result.computed} evaluated now, "
             f"{len(result.points) - missing - result.computed} from the store, {ok} ok, {len(failures)} failed"
             + (f", {missing} not evaluated yet" if missing else "")
             + (f"; constraints removed {result.removed}" if result.removed else "")
             + (f"; {result.stale_recomputed} stored results of another simulator build recomputed"
                if result.stale_recomputed else "")
             + (f"; {result.stale_reused} results of another simulator build reused (--reuse-stale)"
                if result.stale_reused else "")]
    params = list(spec.axes)
    shown = [m for m in spec.metrics if m != "time_by_kind_s"]
    for metric, goal in spec.objectives.items():
        best = best_points(result, metric, goal)
        if not best:
            continue
        lines += ["", f"best {BEST_ROWS} by {metric} ({goal}):"]
        header = ["point", "workload", *params, *[m for m in shown if m != metric], metric]
        lines += ["  " + line for line in table(header, [[row.get(h, "") for h in header] for row in best])]
    if failures:
        lines += ["", f"failed points ({len(failures)}):"]
        for point, record in failures[:FAILURES_SHOWN]:
            where = ", ".join(f"{k}={_cell(v)}" for k, v in point.params.items())
            lines.append(f"  #{point.index} {point.workload} {where}: {record['error']}")
        if len(failures) > FAILURES_SHOWN:
            lines.append(f"  ... and {len(failures) - FAILURES_SHOWN} more (see the CSV's error column)")
    return "\n".join(lines)
