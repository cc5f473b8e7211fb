"""A stand-in point evaluator for sweep tests: closed-form metrics, optional delay, an evaluation log.

`metrics(task)` reads the bandwidth of the machine's `gpu` and the batch:
tokens_per_s = batch * bandwidth_TBps * 100, energy_per_token_j = 1 / tokens_per_s.
It raises for batch 3 (the failing point), sleeps SWEEP_FAKE_DELAY_S seconds if set, and
appends "batch bandwidth pid" to the file SWEEP_FAKE_LOG if set (one line per evaluation).
"""
import os
import time

from hwsim.config.units import parse_quantity

EVALUATOR = "sweep_fake_points:metrics"


def metrics(task: dict) -> dict:
    batch = task["options"]["batch"]
    bandwidth = parse_quantity(task["machine"]["components"]["gpu"]["memory"]["bandwidth"], "bandwidth")
    time.sleep(float(os.environ.get("SWEEP_FAKE_DELAY_S", "0")))
    log = os.environ.get("SWEEP_FAKE_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(f"{batch} {bandwidth:g} {os.getpid()}\n")
    if batch == 3:
        raise ValueError("batch 3 is the failing point")
    tokens_per_s = batch * bandwidth / 1e12 * 100
    return {"tokens_per_s": tokens_per_s, "energy_per_token_j": 1 / tokens_per_s, "latency_s": batch / tokens_per_s,
            "bound": "gpu.memory", "time_by_kind_s": {"matmul": 0.8 / tokens_per_s, "attention": 0.2 / tokens_per_s}}

# 4 batches x 3 bandwidths, minus (4, 300) by the constraint: 11 points, 3 of them failing (batch 3)
FAKE_SWEEP = """\
name: fake
machine: nvidia_t4
workloads:
  - {model: gpt2-small, phase: decode, context: 128}
axes:
  batch: {path: workload.batch, values: [1, 2, 3, 4]}
  bw: {path: machine.components.gpu.memory.bandwidth, values: [100, 200, 300], unit: GB/s}
constraints: ["batch * bw <= 900"]
metrics: [tokens_per_s, energy_per_token_j, latency_s, bound, time_by_kind_s]
objectives: {tokens_per_s: max, energy_per_token_j: min}
"""


def write_fake_sweep(folder, text: str = FAKE_SWEEP):
    path = folder / "fake.yaml"
    path.write_text(text)
    return path
