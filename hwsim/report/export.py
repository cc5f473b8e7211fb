"""Files a run writes: report.json, ops.csv and a Perfetto/Chrome trace (trace.json)."""
from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

from hwsim.report.report import Report


def write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")


def write_ops_csv(report: Report, path: Path) -> None:
    fields = ["id", "name", "kind", "op_class", "layer", "component", "start_ps", "end_ps",
              "duration_s", "flops", "bytes", "bound", "energy_j"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for record in report.ops:
            writer.writerow({**asdict(record), "duration_s": record.duration_s})


def perfetto_events(report: Report) -> dict:
    """Chrome trace-event JSON (opens in ui.perfetto.dev): one track per component."""
    tracks = {name: index for index, name in enumerate(sorted({r.component for r in report.ops}))}
    events = [{"name": "thread_name", "ph": "M", "pid": 0, "tid": tid, "args": {"name": name}}
              for name, tid in tracks.items()]
    events.append({"name": "process_name", "ph": "M", "pid": 0, "tid": 0,
                   "args": {"name": f"{report.machine}: {report.model} {report.phase}"}})
    for record in report.ops:
        events.append({
            "name": record.name, "cat": record.kind, "ph": "X", "pid": 0, "tid": tracks[record.component],
            "ts": record.start_ps / 1e6, "dur": (record.end_ps - record.start_ps) / 1e6,  # microseconds
            "args": {"layer": record.layer, "flops": record.flops, "bytes": record.bytes,
                     "bound": record.bound},
        })
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def write_trace(report: Report, path: Path) -> None:
    path.write_text(json.dumps(perfetto_events(report)))


def write_all(report: Report, out_dir, plots: bool = True) -> list[Path]:
    """Write every output file of a run into `out_dir`; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "report.json", out / "ops.csv", out / "trace.json"]
    write_json(report, paths[0])
    write_ops_csv(report, paths[1])
    write_trace(report, paths[2])
    if plots:
        from hwsim.report.plots import plot_breakdown, plot_roofline
        paths += [plot_breakdown(report, out / "breakdown.png"), plot_roofline(report, out / "roofline.png")]
    return paths
