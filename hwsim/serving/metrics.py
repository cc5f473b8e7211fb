"""Serving metrics (definitions in serving.md section 1) and the run's outputs.

Per request: TTFT = first token - arrival (the iteration that completes the prefill emits the
first token, Vidur); TPOT = (E2E - TTFT) / (output - 1), undefined for 1-token outputs (left out
of TPOT statistics, counted as meeting the TPOT target, as vLLM's benchmark and DistServe do);
E2E = finish - arrival; queueing delay = first scheduled - arrival (Vidur's scheduling delay).
Statistics: mean, p50, p90, p99. Throughput over the duration from the first arrival to the last
completion (vLLM's benchmark): requests/s, output tokens/s, total tokens/s. SLO attainment: the
share of all requests (rejected ones fail) whose TTFT and TPOT both meet their targets (DistServe's
joint attainment); goodput here is the rate of such requests at the offered load, also per device
(vLLM's benchmark form; DistServe's goodput, the highest per-GPU rate keeping attainment above a
goal, is this figure maximised by a rate search).
Energy per request and per output token from the simulated iterations' energy (a request gets
its token share of each iteration it ran in; idle time between iterations is not counted).
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwsim.serving.loop import Timeline
from hwsim.serving.state import Live

COLUMNS = ("id", "arrival_s", "prompt_tokens", "output_tokens", "scheduled_s", "first_token_s", "finish_s",
           "ttft_s", "tpot_s", "e2e_s", "queueing_s", "preemptions", "energy_j", "slo_met", "rejected")
ITERATION_COLUMNS = ("start_s", "latency_s", "sequences", "new_tokens", "kv_blocks", "replica")


def distribution(values) -> dict:
    """mean, p50, p90, p99 of `values` (None when empty)."""
    if len(values) == 0:
        return {"mean": None, "p50": None, "p90": None, "p99": None}
    data = np.asarray(values, dtype=float)
    p50, p90, p99 = np.percentile(data, [50, 90, 99])
    return {"mean": float(data.mean()), "p50": float(p50), "p90": float(p90), "p99": float(p99)}


@dataclass
class ServingReport:
    """One serving run: every request's times, the timeline, and the iteration memo's figures."""

    machine: str
    model: str
    scheduler: str
    lives: list[Live]
    timeline: Timeline
    slo_ttft_s: float
    slo_tpot_s: float
    kv_blocks: int
    block_size: int
    distinct_iterations: int     # iterations this run simulated (not found in the memo)
    devices: int = 1             # devices of the machine's plan (DistServe counts goodput per GPU)

    @property
    def done(self) -> list[Live]:
        return [live for live in self.lives if live.finish_s is not None]

    def ttft(self, live: Live) -> float:
        return live.first_token_s - live.request.arrival_s

    def tpot(self, live: Live) -> float | None:
        out = live.request.output
        return (live.finish_s - live.first_token_s) / (out - 1) if out > 1 else None

    def slo_met(self, live: Live) -> bool:
        if live.finish_s is None:
            return False
        tpot = self.tpot(live)
        return self.ttft(live) <= self.slo_ttft_s and (tpot is None or tpot <= self.slo_tpot_s)

    @property
    def duration_s(self) -> float:
        first = min(live.request.arrival_s for live in self.lives)
        return self.timeline.end_s - first

    def summary(self) -> dict:
        done, timeline = self.done, self.timeline
        duration = self.duration_s or float("nan")
        met = sum(self.slo_met(live) for live in self.lives)
        output = sum(live.request.output for live in done)
        iterations = len(timeline.latencies)
        return {
            "machine": self.machine, "model": self.model, "scheduler": self.scheduler,
            "requests": len(self.lives), "completed": len(done),
            "rejected": sum(bool(live.rejected) for live in self.lives),
            "duration_s": self.duration_s,
            "ttft_s": distribution([self.ttft(live) for live in done]),
            "tpot_s": distribution([t for t in map(self.tpot, done) if t is not None]),
            "e2e_s": distribution([live.finish_s - live.request.arrival_s for live in done]),
            "queueing_s": distribution([live.scheduled_s - live.request.arrival_s for live in done]),
            "requests_per_s": len(done) / duration,
            "output_tokens_per_s": output / duration,
            "total_tokens_per_s": (output + sum(live.request.prompt for live in done)) / duration,
            "slo": {"ttft_s": self.slo_ttft_s, "tpot_s": self.slo_tpot_s, "attainment": met / len(self.lives),
                    "goodput_rps": met / duration, "goodput_rps_per_device": met / duration / self.devices},
            "energy_j": timeline.energy_j,
            "energy_per_request_j": timeline.energy_j / len(done) if done else None,
            "energy_per_output_token_j": timeline.energy_j / output if output else None,
            "preemptions": sum(live.preemptions for live in self.lives),
            "swap": {"blocks": timeline.swap_blocks, "stall_s": timeline.swap_s},
            "kv_transfer_s": timeline.transfer_s,
            "iterations": iterations, "distinct_iterations": self.distinct_iterations,
            "memo_hit_rate": 1 - self.distinct_iterations / iterations if iterations else 0.0,
            "batch_mean": float(np.mean(timeline.batch)) if iterations else 0.0,
            "kv": {"blocks": self.kv_blocks, "block_size": self.block_size,
                   "peak_blocks": max(timeline.kv_blocks, default=0)},
            "busy_s": float(sum(timeline.latencies)),
        }

    def rows(self) -> list[tuple]:
        """The per-request table (COLUMNS), in request order."""
        out = []
        for live in self.lives:
            r = live.request
            if live.finish_s is None:
                times = (None,) * 7
            else:
                times = (live.scheduled_s, live.first_token_s, live.finish_s, self.ttft(live), self.tpot(live),
                         live.finish_s - r.arrival_s, live.scheduled_s - r.arrival_s)
            out.append((r.id, r.arrival_s, r.prompt, r.output, *times, live.preemptions, live.energy_j,
                        self.slo_met(live), live.rejected))
        return out

    def write(self, folder) -> Path:
        """requests.csv (one row per request), iterations.csv (one row per iteration: batch size and
        KV blocks in use over time) and summary.json in `folder`."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "requests.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(("" if value is None else value for value in row) for row in self.rows())
        with (folder / "iterations.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(ITERATION_COLUMNS)
            t = self.timeline
            replicas = t.replica or [0] * len(t.starts)
            writer.writerows(zip(t.starts, t.latencies, t.batch, t.tokens, t.kv_blocks, replicas))
        (folder / "summary.json").write_text(json.dumps(self.summary(), indent=1))
        return folder

    def __str__(self) -> str:
        s = self.summary()
        ms = lambda d, key: "-" if d[key] is None else f"{d[key] * 1e3:.1f}"
        lines = [f"{s['model']} on {s['machine']}, {s['scheduler']} batching: {s['completed']}/{s['requests']} "
                 f"requests served ({s['rejected']} rejected) in {s['duration_s']:.2f} s simulated",
                 f"  {s['requests_per_s']:.3f} req/s, {s['output_tokens_per_s']:.1f} output tok/s, "
                 f"SLO attainment {s['slo']['attainment']:.1%} (TTFT <= {s['slo']['ttft_s']} s, TPOT <= "
                 f"{s['slo']['tpot_s']} s), goodput {s['slo']['goodput_rps']:.3f} req/s",
                 "  ms            mean     p50     p90     p99"]
        for key in ("ttft_s", "tpot_s", "e2e_s", "queueing_s"):
            d = s[key]
            lines.append(f"  {key[:-2]:<10}" + "".join(f"{ms(d, p):>8}" for p in ("mean", "p50", "p90", "p99")))
        energy = s["energy_per_output_token_j"]
        lines.append(f"  energy {s['energy_j']:.1f} J" + (f", {energy:.3f} J per output token" if energy else "")
                     + f"; {s['preemptions']} preemptions; mean batch {s['batch_mean']:.1f}; "
                     f"KV peak {s['kv']['peak_blocks']}/{s['kv']['blocks']} blocks"
                     + (f"; {s['swap']['blocks']} blocks swapped, {s['swap']['stall_s']:.3f} s waiting on swaps"
                        if s['swap']['blocks'] else ""))
        lines.append(f"  {s['iterations']} iterations, {s['distinct_iterations']} distinct simulated "
                     f"(memo hit rate {s['memo_hit_rate']:.1%})")
        return "\n".join(lines)
