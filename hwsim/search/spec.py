"""Search files (sweeps/*_search.yaml): a sweep's machine, workload, axes and constraints, plus
objectives to optimise and a budget of evaluations.

    name: pim-gpt-search
    machine: pim_gpt
    workloads: [{model: gpt2-medium, phase: decode, batch: 1, context: 512}]
    axes:                                     # the sweep syntax (hwsim/sweep/spec.py)
      channels: {path: machine.components.pim.channels, values: [8, 16, 32]}
      clock: {path: machine.components.asic.clock, loguniform: [100, 1000], unit: MHz}
    constraints: ["channels * 16 <= 512"]
    objectives: {tokens_per_s: max, tokens_per_j: max}
    budget: 40                                # trials (a repeated design is read from the store)
    sampler: tpe                              # or nsga2
    seed: 0
    batch: 4                                  # trials proposed per round, evaluated in parallel

Grid axes (values, range, logrange) and `choice` are categorical; `uniform`/`loguniform` are
continuous (integer with `integer: true`); axes of one `zip:` group are one categorical choice.
Objectives: any numeric report metric or a derived one (DERIVED; area and cost from
hwsim/search/area.py). With a `serving:` block (and `serving.*` axes: replicas, scheduler, token
budget, ...), the serving metrics too (SERVING_OBJECTIVES: goodput, p99 TTFT and TPOT, requests/s,
energy per request, goodput per USD); area and cost then count every replica and the decode machine
(hwsim/search/deployment.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt

from hwsim.config.errors import did_you_mean
from hwsim.config.loader import SourceMap
from hwsim.sweep.spec import (METRICS, SERVING_METRICS, TEXT_METRICS, Sweep, SweepSpec, Workload, axes_problems,
                              load_sweep, sweep_from_dict)

# derived metric -> (description, needs the machine's area, value from (report metrics, MachineArea))
DERIVED = {
    "tokens_per_j": ("tokens per joule, equal to tokens/s per watt", False,
                     lambda m, area: 1 / m["energy_per_token_j"]),
    "power_w": ("average power of the step (W): energy / latency", False,
                lambda m, area: m["energy_j"] / m["latency_s"]),
    "area_mm2": ("silicon area of the machine (mm^2)", True, lambda m, area: area.mm2),
    "cost_usd": ("silicon cost of the machine's dies (USD)", True, lambda m, area: area.cost_usd),
    "tokens_per_s_per_mm2": ("tokens/s per mm^2 of silicon", True,
                             lambda m, area: m["tokens_per_s"] / area.mm2),
    "tokens_per_s_per_usd": ("tokens/s per USD of silicon", True,
                             lambda m, area: m["tokens_per_s"] / area.cost_usd),
    "goodput_rps_per_usd": ("goodput (requests/s meeting both SLOs) per USD of silicon", True,
                            lambda m, area: m["goodput_rps"] / area.cost_usd),
}
SERVING_OBJECTIVES = [*SERVING_METRICS, "goodput_rps_per_usd"]     # need a serving: block
OBJECTIVES = [m for m in METRICS if m not in TEXT_METRICS] + [m for m in DERIVED if m not in SERVING_OBJECTIVES]
SAMPLERS = ("tpe", "nsga2")


class SearchSpec(SweepSpec):
    workloads: list[Workload] = Field(min_length=1, max_length=1)   # one workload is optimised
    objectives: dict[str, Literal["min", "max"]] = Field(min_length=1, max_length=3)
    budget: PositiveInt
    sampler: Literal[SAMPLERS] = "tpe"
    seed: NonNegativeInt = 0
    batch: PositiveInt = 4

    @property
    def needs_area(self) -> bool:
        return any(DERIVED[name][1] for name in self.objectives if name in DERIVED)


def _problems(spec: SearchSpec, source: SourceMap) -> list:
    problems = axes_problems(spec, source)
    if spec.random is not None:
        problems.append(source.problem(("random",), "a search draws its own points: remove random: "
                                                    "(uniform/loguniform/choice axes need no samples)"))
    objectives = OBJECTIVES + (SERVING_OBJECTIVES if spec.serving else [])
    hint = "" if spec.serving else " (a serving objective: add a serving: block)"
    for metric in spec.objectives:
        if metric not in objectives:
            problems.append(source.problem(("objectives", metric), f"unknown objective"
                                           f"{hint if metric in SERVING_OBJECTIVES else ''}"
                                           f"{did_you_mean(metric, objectives)}; known: {', '.join(objectives)}"))
    metrics = {**METRICS, **(SERVING_METRICS if spec.serving else {})}
    for index, metric in enumerate(spec.metrics):
        if metric not in metrics:
            problems.append(source.problem(("metrics", index), f"unknown metric '{metric}'"
                                                               f"{did_you_mean(metric, metrics)}"))
    return problems


def search_from_dict(data: dict, source: SourceMap | None = None, path: Path | None = None) -> Sweep:
    """Validate plain data as a search; the result is a Sweep whose spec is a SearchSpec."""
    return sweep_from_dict(data, source, path, SearchSpec, _problems)


def load_search(path) -> Sweep:
    return load_sweep(path, SearchSpec, _problems)
