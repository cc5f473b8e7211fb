"""Sweep plots, PNG + SVG, labelled in place (no legend to hunt through).

- Pareto front of two metrics: every point in grey, the front in colour, each front point named
  by its parameters;
- one metric against one parameter, the other parameters held fixed, one labelled line per workload;
- latency breakdown: stacked bars of operator time per kind, one bar per point;
- roofline placement of one point's operators, each operator kind named beside its cloud.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hwsim.sweep.run import SweepResult  # noqa: E402

LABELS = {"tokens_per_s": "tokens/s", "energy_per_token_j": "energy per token (J)", "latency_s": "latency (s)",
          "energy_j": "energy per step (J)", "roofline_floor_s": "roofline floor (s)", "tokens": "tokens per step"}
HIGHER_IS_BETTER = {"tokens_per_s"}
COLORS = plt.get_cmap("tab10").colors


def _save(fig, output) -> list[Path]:
    png = Path(output).with_suffix(".png")
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(png, dpi=130)
    fig.savefig(png.with_suffix(".svg"))
    plt.close(fig)
    return [png, png.with_suffix(".svg")]


def _auto_log(ax, axis: str, values) -> None:
    values = [v for v in values if v > 0]
    if values and max(values) / min(values) > 20:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def _ok_rows(result: SweepResult, *metrics: str) -> list[dict]:
    rows = [r for r in result.rows(list(dict.fromkeys([*metrics, *result.sweep.spec.metrics])))
            if r["status"] == "ok" and all(isinstance(r.get(m), (int, float)) for m in metrics)]
    if not rows:
        raise ValueError(f"no finished point has {' and '.join(metrics)}")
    return rows


def _better(metric: str, a: float, b: float) -> bool:
    return a > b if metric in HIGHER_IS_BETTER else a < b


def pareto_front(rows: list[dict], x: str, y: str) -> list[dict]:
    """Rows no other row beats on both metrics (direction: tokens/s up, everything else down)."""
    def sign(metric):
        return -1 if metric in HIGHER_IS_BETTER else 1

    ordered = sorted(rows, key=lambda r: (sign(x) * r[x], sign(y) * r[y]))   # best x first; ties: best y
    front = []
    for row in ordered:
        if not front or _better(y, row[y], front[-1][y]):
            front.append(row)
    return front


def _describe(row: dict, params: list[str]) -> str:
    return ", ".join(f"{p}={row[p]:.3g}" if isinstance(row[p], float) else f"{p}={row[p]}" for p in params)


def plot_pareto(result: SweepResult, x: str, y: str, output) -> list[Path]:
    """One front per workload (fronts of different models do not compete), labelled in place."""
    rows = _ok_rows(result, x, y)
    params = list(result.sweep.spec.axes)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    ax.scatter([r[x] for r in rows], [r[y] for r in rows], s=12, color="0.75")
    _auto_log(ax, "x", [r[x] for r in rows])
    _auto_log(ax, "y", [r[y] for r in rows])
    middle = np.median([r[x] for r in rows])
    workloads = sorted({r["workload"] for r in rows})
    optimal = 0
    for number, workload in enumerate(workloads):
        front = pareto_front([r for r in rows if r["workload"] == workload], x, y)
        optimal += len(front)
        color = COLORS[(number + 3) % len(COLORS)]
        ax.plot([r[x] for r in front], [r[y] for r in front], "-o", color=color, ms=5, lw=1.2)
        step = max(1, len(front) // 8)              # at most ~8 labels per front
        for index, row in enumerate(front[::step]):
            right_half = row[x] > middle
            ax.annotate(_describe(row, params), (row[x], row[y]), fontsize=7, color=color,
                        xytext=(-5 if right_half else 5, 6 if index % 2 == 0 else -12),
                        textcoords="offset points", ha="right" if right_half else "left")
        if len(workloads) > 1:
            ax.annotate(workload, (front[0][x], front[0][y]), xytext=(0, 18), textcoords="offset points",
                        fontsize=8, color=color, weight="bold", ha="center")
    better = {True: "  (higher is better)", False: "  (lower is better)"}
    ax.set_xlabel(LABELS.get(x, x) + better[x in HIGHER_IS_BETTER])
    ax.set_ylabel(LABELS.get(y, y) + better[y in HIGHER_IS_BETTER])
    ax.set_title(f"{result.sweep.spec.name}: {optimal} Pareto-optimal of {len(rows)} points "
                 f"(coloured; grey: dominated)", fontsize=9)
    return _save(fig, output)


def _matches(row: dict, fixed: dict) -> bool:
    return all(str(row[name]) == str(value) or _close(row[name], value) for name, value in fixed.items())


def _close(a, b) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-9 * max(abs(float(a)), abs(float(b)), 1e-300)
    except (TypeError, ValueError):
        return False


def _fixed_values(result: SweepResult, rows: list[dict], free: list[str], fixed: dict) -> dict:
    """`fixed` completed with the best point's values for every parameter that is neither free nor given."""
    unknown = [name for name in fixed if name not in result.sweep.spec.axes]
    if unknown:
        raise ValueError(f"--fix {unknown[0]}: not a parameter of this sweep ({', '.join(result.sweep.spec.axes)})")
    metric, goal = next(iter(result.sweep.spec.objectives.items()))
    candidates = [r for r in rows if _matches(r, fixed) and isinstance(r.get(metric), (int, float))] or rows
    best = (max if goal == "max" else min)(candidates, key=lambda r: r.get(metric) or 0)
    return {name: fixed.get(name, best[name]) for name in result.sweep.spec.axes if name not in free}


def plot_metric_vs_param(result: SweepResult, param: str, metric: str, fixed: dict, output) -> list[Path]:
    if param not in result.sweep.spec.axes:
        raise ValueError(f"'{param}' is not a parameter of this sweep ({', '.join(result.sweep.spec.axes)})")
    rows = _ok_rows(result, metric)
    axes = result.sweep.spec.axes
    zipped = [name for name, axis in axes.items() if axis.zip is not None and axis.zip == axes[param].zip]
    held = _fixed_values(result, rows, zipped or [param], fixed)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    lines = 0
    for index, workload in enumerate(sorted({r["workload"] for r in rows})):
        line = sorted((r for r in rows if r["workload"] == workload and _matches(r, held)), key=lambda r: r[param])
        if not line:
            continue
        xs, ys = [r[param] for r in line], [r[metric] for r in line]
        color = COLORS[index % len(COLORS)]
        ax.plot(xs, ys, "-o", color=color, ms=4)
        ax.annotate(workload, (xs[-1], ys[-1]), xytext=(4, 0), textcoords="offset points", fontsize=8,
                    color=color, va="center")
        lines += 1
    if not lines:
        raise ValueError(f"no finished points with {_describe(held, list(held))}")
    numeric = [r[param] for r in rows if isinstance(r[param], (int, float))]
    if len(numeric) == len(rows):
        _auto_log(ax, "x", numeric)
    ax.set_xlabel(f"{param}  ({result.sweep.spec.axes[param].path})")
    ax.set_ylabel(LABELS.get(metric, metric))
    ax.set_title(f"{result.sweep.spec.name}: {LABELS.get(metric, metric)} vs {param}"
                 + (f"\nheld: {_describe(held, list(held))}" if held else ""), fontsize=9)
    ax.margins(x=0.15)
    return _save(fig, output)


def plot_breakdown(result: SweepResult, output, fixed: dict | None = None, max_bars: int = 40) -> list[Path]:
    """Stacked bars of operator time per kind; kinds under 2% of all time are summed as 'other'."""
    rows = [r for r in _ok_rows(result, "latency_s") if _matches(r, fixed or {})][:max_bars]
    times = [result.record(result.points[r["point"]])["metrics"].get("time_by_kind_s", {}) for r in rows]
    if not any(times):
        raise ValueError("the stored points have no time_by_kind_s breakdown")
    totals: dict[str, float] = {}
    for by_kind in times:
        for kind, seconds in by_kind.items():
            totals[kind] = totals.get(kind, 0.0) + seconds
    grand = sum(totals.values())
    kinds = [k for k in sorted(totals, key=totals.get, reverse=True) if totals[k] >= 0.02 * grand]
    stacks = np.array([[t.get(k, 0.0) for k in kinds] + [sum(v for k, v in t.items() if k not in kinds)]
                       for t in times]) * 1e3
    names = kinds + ["other"]
    params = list(result.sweep.spec.axes)
    labels = [f"#{r['point']} {_describe(r, params)}" for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rows) + 1.8))
    left = np.zeros(len(rows))
    widest = stacks.sum(axis=1).max()
    for column, name in enumerate(names):
        widths = stacks[:, column]
        if not widths.any():
            continue
        color = COLORS[column % len(COLORS)]
        ax.barh(range(len(rows)), widths, left=left, color=color, height=0.75)
        for y, (x0, w) in enumerate(zip(left, widths)):
            if w > 0.012 * len(name) * widest:      # room for the name at fontsize 7
                ax.text(x0 + w / 2, y, name, ha="center", va="center", fontsize=7, color="white")
        left += widths
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("operator time per step (ms)")
    ax.set_title(f"{result.sweep.spec.name}: operator time by kind, order: {', '.join(n for n in names)}",
                 fontsize=9)
    return _save(fig, output)


def plot_point_roofline(sweep, index: int, output) -> list[Path]:
    """Simulate point `index` again and place each operator at (FLOP/byte, achieved FLOP/s)."""
    from hwsim.sweep.evaluate import simulate_task
    from hwsim.sweep.points import expand

    points, _ = expand(sweep)
    if not 0 <= index < len(points):
        raise ValueError(f"--point must be 0 .. {len(points) - 1}")
    point = points[index]
    report = simulate_task(point.task)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    ops = [r for r in report.ops if r.flops > 0 and r.bytes > 0 and r.end_ps > r.start_ps]
    if not ops:
        raise ValueError("this point has no operator with both FLOPs and bytes")
    intensity = np.array([r.flops / r.bytes for r in ops])
    achieved = np.array([r.flops / r.duration_s for r in ops])
    kinds = sorted({r.kind for r in ops}, key=lambda k: np.median(intensity[[r.kind == k for r in ops]]))
    placed: list[float] = []        # log10 intensity of the labels so far: close ones stack downwards
    for number, kind in enumerate(kinds):
        mask = np.array([r.kind == kind for r in ops])
        color = COLORS[number % len(COLORS)]
        ax.scatter(intensity[mask], achieved[mask], s=14, color=color, alpha=0.7)
        at = (np.median(intensity[mask]), np.median(achieved[mask]))
        crowd = sum(abs(np.log10(at[0]) - x) < 0.5 for x in placed)
        placed.append(np.log10(at[0]))
        ax.annotate(kind, at, xytext=(8, -12 - 11 * crowd), textcoords="offset points", fontsize=8,
                    color=color, weight="bold", arrowprops={"arrowstyle": "-", "color": color, "lw": 0.5})
    compute = [r.capacity for r in report.resources if r.unit == "FLOP/s"]
    memory = [r.capacity for r in report.resources if r.unit == "B/s"]
    if compute and memory:
        peak, bandwidth = max(compute), max(memory)
        xs = np.geomspace(intensity.min() / 2, max(intensity.max() * 2, 2 * peak / bandwidth), 200)
        ax.plot(xs, np.minimum(peak, xs * bandwidth), color="k", lw=1.2)
        ax.annotate(f"roof: {peak / 1e12:.4g} TFLOP/s, {bandwidth / 1e12:.4g} TB/s", (xs[-1], peak),
                    xytext=(-4, 4), textcoords="offset points", ha="right", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("achieved FLOP/s")
    ax.set_title(f"point #{index} {point.workload}: {_describe(point.params, list(point.params))}\n"
                 f"{report.machine}, batch {report.batch}, context {report.context}", fontsize=9)
    return _save(fig, output)
