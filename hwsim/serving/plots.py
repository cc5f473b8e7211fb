"""Plots of serving runs: latency CDFs (TTFT, TPOT, E2E) and KV blocks and batch size over time,
one PNG per call; several runs overlay in one figure so policies compare at a glance."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hwsim.serving.metrics import ServingReport  # noqa: E402


def latency_cdfs(reports: dict[str, ServingReport], path) -> Path:
    """TTFT, TPOT and E2E CDFs of each labelled run, side by side."""
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for label, report in reports.items():
        done = report.done
        columns = {"TTFT (s)": [report.ttft(live) for live in done],
                   "TPOT (ms)": [1e3 * t for t in map(report.tpot, done) if t is not None],
                   "E2E (s)": [live.finish_s - live.request.arrival_s for live in done]}
        for axis, (name, values) in zip(axes, columns.items()):
            values = np.sort(values)
            axis.plot(values, np.arange(1, len(values) + 1) / len(values), label=label)
            axis.set_xlabel(name)
    axes[0].set_ylabel("share of requests")
    axes[0].legend(fontsize=8)
    return _save(figure, path)


def kv_and_batch(report: ServingReport, path) -> Path:
    """KV blocks in use and sequences per iteration over simulated time."""
    t = report.timeline
    figure, (kv, batch) = plt.subplots(2, 1, figsize=(8, 4.5), sharex=True)
    kv.step(t.starts, t.kv_blocks, where="post")
    kv.axhline(report.kv_blocks, color="grey", linestyle="--", linewidth=0.8)
    kv.set_ylabel("KV blocks in use")
    batch.step(t.starts, t.batch, where="post")
    batch.set_ylabel("sequences")
    batch.set_xlabel("simulated time (s)")
    figure.suptitle(f"{report.model} on {report.machine}, {report.scheduler} batching", fontsize=10)
    return _save(figure, path)


def _save(figure, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
