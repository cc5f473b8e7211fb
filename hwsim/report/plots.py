"""PNG plots of one run: time breakdown by operator kind, and operators on the roofline."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hwsim.report.report import Report  # noqa: E402


def plot_breakdown(report: Report, path: Path) -> Path:
    """Horizontal bars: operator time per kind, as a share of the step."""
    by_kind = report.time_by("kind")
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(by_kind) + 1.5))
    kinds = list(by_kind)[::-1]
    seconds = [by_kind[k] for k in kinds]
    ax.barh(kinds, [s * 1e3 for s in seconds], color="#4477aa")
    for y, s in enumerate(seconds):
        ax.text(s * 1e3, y, f" {s / report.latency_s:.1%}", va="center", fontsize=8)
    ax.set_xlabel("operator time (ms)")
    ax.set_title(f"{report.model} {report.phase} on {report.machine}: "
                 f"{report.latency_s * 1e3:.3g} ms per step", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_roofline(report: Report, path: Path) -> Path:
    """Each operator at (FLOPs/byte, achieved FLOP/s) under the machine's compute and memory roofs."""
    compute = [r for r in report.resources if r.unit == "FLOP/s"]
    memory = [r for r in report.resources if r.unit == "B/s"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    points = [(r.flops / r.bytes, r.flops / r.duration_s, r.kind) for r in report.ops
              if r.flops > 0 and r.bytes > 0 and r.end_ps > r.start_ps]
    for kind in sorted({p[2] for p in points}):
        xs = [p[0] for p in points if p[2] == kind]
        ys = [p[1] for p in points if p[2] == kind]
        ax.scatter(xs, ys, s=10, label=kind, alpha=0.7)
    if compute and memory and points:
        peak, bandwidth = max(r.capacity for r in compute), max(r.capacity for r in memory)
        ridge = peak / bandwidth
        lo = min(min(p[0] for p in points), ridge) / 2
        hi = max(max(p[0] for p in points), ridge) * 4
        xs = [lo, ridge, hi]
        ax.plot(xs, [min(peak, x * bandwidth) for x in xs], color="k", lw=1.2, label="roofline")
        ax.annotate(f"ridge {ridge:.3g} FLOP/B", (ridge, peak), textcoords="offset points",
                    xytext=(4, -12), fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("achieved FLOP/s")
    ax.set_title(f"{report.model} {report.phase} on {report.machine}", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
