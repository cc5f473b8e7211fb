"""Files a run writes: report.json, ops.csv and a Perfetto/Chrome trace (trace.json), and the
folder `hwsim run` writes them to."""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from hwsim.report.report import Report


def run_folder(report: Report, machine: str, inputs: dict) -> Path:
    """results/<machine>-<model>-<phase>-b<batch>-c<context>-<hash>: the readable part names the run,
    the hash covers `inputs` (everything else that changes the result: machine and model contents,
    formats, steps, seed, routing, a replayed trace) so runs that differ never share a folder and a
    rerun of the same inputs lands in (and overwrites) its own folder only."""
    blob = json.dumps({**inputs, "precision": report.precision, "seed": report.seed, "steps": report.steps},
                      sort_keys=True, default=str)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:8]
    return Path("results") / f"{machine}-{report.model}-{report.phase}-b{report.batch}-c{report.context}-{digest}"


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


OUTPUTS = ("report.json", "ops.csv", "trace.json", "breakdown.png", "roofline.png")   # the names write_all owns


def write_all(report: Report, out_dir, plots: bool = True) -> list[Path]:
    """Write every output file of a run into `out_dir`; returns their paths.

    Files an earlier report left there under one of the OUTPUTS names that this one does not write
    (its plots, after --no-plots) are removed, so a folder never shows one run's report beside
    another's plots; files under any other name are the user's and stay."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in OUTPUTS[:3]]
    write_json(report, paths[0])
    write_ops_csv(report, paths[1])
    write_trace(report, paths[2])
    if plots:
        from hwsim.report.plots import plot_breakdown, plot_roofline
        paths += [plot_breakdown(report, out / OUTPUTS[3]), plot_roofline(report, out / OUTPUTS[4])]
    for stale in set(OUTPUTS) - {path.name for path in paths}:
        (out / stale).unlink(missing_ok=True)
    return paths
