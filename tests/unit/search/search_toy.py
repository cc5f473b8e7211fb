"""A stand-in evaluator for search tests: closed-form metrics and an evaluation log.

`metrics(task)` reads the bandwidth of the machine's `gpu` (GB/s) and the batch:
tokens_per_s = bandwidth in GB/s, energy_per_token_j = (bandwidth / 100 GB/s)^2 + batch - 1, so for
each bandwidth the design with batch 1 dominates the others, and among batch-1 designs more tokens/s
costs more energy: the true Pareto front of (tokens_per_s max, energy_per_token_j min) is batch == 1.
It sleeps SEARCH_TOY_DELAY_S seconds if set, appends "batch bandwidth" to the file SEARCH_TOY_LOG if
set (one line per evaluation), and raises KeyboardInterrupt at the evaluation numbered
SEARCH_TOY_KILL_AT in this process (an interrupt in the middle of a search). The design batch 3 at
500 GB/s fails (ValueError), as a design that does not fit would.
"""
import os
import time

from hwsim.config.units import parse_quantity

EVALUATOR = "search_toy:metrics"
COUNT = {"evaluations": 0}


def metrics(task: dict) -> dict:
    batch = task["options"]["batch"]
    bandwidth = parse_quantity(task["machine"]["components"]["gpu"]["memory"]["bandwidth"], "bandwidth") / 1e9
    time.sleep(float(os.environ.get("SEARCH_TOY_DELAY_S", "0")))
    COUNT["evaluations"] += 1
    if COUNT["evaluations"] == int(os.environ.get("SEARCH_TOY_KILL_AT", "0")):
        raise KeyboardInterrupt
    log = os.environ.get("SEARCH_TOY_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(f"{batch} {bandwidth:g}\n")
            handle.flush()
    if (batch, bandwidth) == (3, 500):
        raise ValueError("batch 3 at 500 GB/s is the failing design")
    energy = (bandwidth / 100) ** 2 + batch - 1
    return {"tokens_per_s": bandwidth, "energy_per_token_j": energy, "latency_s": 1 / bandwidth,
            "energy_j": energy, "tokens": 1, "roofline_floor_s": 0.0, "bound": "gpu.memory", "time_by_kind_s": {}}


# 6 bandwidths x 3 batches = 18 designs, minus (600, 3) by the constraint: 17
TOY_SEARCH = """\
name: toy
machine: nvidia_t4
workloads:
  - {model: gpt2-small, phase: decode, context: 128}
axes:
  batch: {path: workload.batch, values: [1, 2, 3]}
  bw: {path: machine.components.gpu.memory.bandwidth, range: {start: 100, stop: 600, step: 100}, unit: GB/s}
constraints: ["batch * bw < 1800"]
objectives: {tokens_per_s: max, energy_per_token_j: min}
budget: 12
seed: 3
batch: 3
"""


def write_toy_search(folder, text: str = TOY_SEARCH, name: str = "toy.yaml"):
    path = folder / name
    path.write_text(text)
    return path
