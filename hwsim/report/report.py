"""The result of one simulated inference step: timing, throughput, energy, bound, per-op records."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Optional

from hwsim.capacity import Footprint, overflow_message, table
from hwsim.components.base import Resource
from hwsim.config.units import format_quantity


@dataclass(frozen=True)
class OpRecord:
    """One operator as it ran: where, when (ps) and what set its time."""

    id: int
    name: str
    kind: str
    op_class: str
    layer: int
    component: str
    start_ps: int
    end_ps: int
    flops: float
    bytes: float
    bound: str
    energy_j: float

    @property
    def duration_s(self) -> float:
        return (self.end_ps - self.start_ps) * 1e-12


@dataclass
class Report:
    """Everything `hwsim run` prints and writes; `hwsim.simulate()` returns it."""

    machine: str
    model: str
    phase: str
    batch: int
    context: int
    precision: str
    seed: int
    latency_s: float                  # wall time of the step (prefill: time to first token)
    tokens: int                       # tokens produced (decode) or processed (prefill) by the step
    energy_j: float                   # operator energy + static energy over the step
    resources: list[Resource]
    components: dict[str, dict]       # per-component statistics
    ops: list[OpRecord] = field(repr=False, default_factory=list)
    parallel: Optional[dict] = None   # the parallelism plan and expert load, on multi-device machines
    steps: int = 1                    # decode steps the latency covers (hwsim.step.simulate_steps)
    footprint: Optional[Footprint] = None   # bytes per memory (hwsim.capacity)
    overcommitted: bool = False       # ran although its bytes do not fit (--allow-overcommit)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.latency_s if self.latency_s else float("inf")

    @property
    def pipelined_tokens_per_s(self) -> float:
        """Tokens/s with a micro-batch in flight per pipeline stage of the plan (tokens_per_s without
        stages). The step carries one micro-batch through all ``pp`` stages, so its latency is the token
        latency; with ``pp`` of them in flight every stage works on a different one and the pipeline
        delivers pp x tokens per latency. This is how CENT counts pipeline throughput (artifact
        cent_simulation/run_sim.py load_data_point: ``1000 / token_latency * pp``); it takes the stages
        as equal (with unequal stages the slowest sets the pace, and this is an upper bound)."""
        return (self.parallel or {}).get("pp", 1) * self.tokens_per_s

    @property
    def energy_per_token_j(self) -> float:
        return self.energy_j / self.tokens if self.tokens else 0.0

    @property
    def floor_s(self) -> float:
        """Roofline floor: no run may be faster than its busiest resource at full rate."""
        return max((r.floor_s for r in self.resources), default=0.0)

    @property
    def bound(self) -> str:
        """The resource with the highest utilisation over the step."""
        return max(self.resources, key=lambda r: r.floor_s).name if self.resources else "none"

    def utilisation(self, resource: Resource) -> float:
        return resource.floor_s / self.latency_s if self.latency_s else 0.0

    def time_by(self, key: str) -> dict[str, float]:
        """Summed operator time (s) grouped by an OpRecord field: 'kind', 'op_class', 'component', 'bound'."""
        totals: dict[str, float] = defaultdict(float)
        for record in self.ops:
            totals[getattr(record, key)] += record.duration_s
        return dict(sorted(totals.items(), key=lambda kv: -kv[1]))

    def device_busy_s(self) -> dict[int, float]:
        """Busy time (s) of each device: its operators on instances ``name[d]``, communication excluded."""
        busy: dict[int, float] = defaultdict(float)
        for record in self.ops:
            device = _device(record.component)
            if device is not None and record.op_class != "communication":
                busy[device] += record.duration_s
        return dict(sorted(busy.items()))

    @property
    def device_imbalance(self) -> float:
        """Busiest device's busy time over the mean (1 is balanced; 1 without devices)."""
        busy = list(self.device_busy_s().values())
        return max(busy) * len(busy) / sum(busy) if busy and sum(busy) else 1.0

    def layer_breakdown(self) -> list[dict]:
        """Per layer (-1: outside the blocks): mean device compute time, the device imbalance
        (busiest device minus the mean: what the others wait at the next synchronisation), and the
        time of the layer's dispatch, combine and other collectives (s)."""
        per_layer: dict[int, dict] = defaultdict(lambda: {"busy": defaultdict(float), "dispatch_s": 0.0,
                                                          "combine_s": 0.0, "collective_s": 0.0})
        for record in self.ops:
            entry = per_layer[record.layer]
            if record.op_class == "communication":
                key = f"{record.kind}_s" if record.kind in ("dispatch", "combine") else "collective_s"
                entry[key] += record.duration_s
            else:
                entry["busy"][_device(record.component) or 0] += record.duration_s
        rows = []
        for layer, entry in sorted(per_layer.items()):
            busy = list(entry.pop("busy").values()) or [0.0]
            mean = sum(busy) / len(busy)
            rows.append({"layer": layer, "compute_s": mean, "imbalance_s": max(max(busy) - mean, 0.0), **entry})
        return rows

    def to_dict(self) -> dict:
        return {
            "machine": self.machine, "model": self.model, "phase": self.phase,
            "batch": self.batch, "context": self.context, "precision": self.precision, "seed": self.seed,
            "steps": self.steps,
            "latency_s": self.latency_s, "tokens": self.tokens, "tokens_per_s": self.tokens_per_s,
            "energy_j": self.energy_j, "energy_per_token_j": self.energy_per_token_j,
            "bound": self.bound, "roofline_floor_s": self.floor_s,
            "resources": [{**asdict(r), "utilisation": self.utilisation(r)} for r in self.resources],
            "components": self.components,
            "time_by_kind_s": self.time_by("kind"),
            "time_by_bound_s": self.time_by("bound"),
            "ops": len(self.ops),
            **({"memory": {**self.footprint.to_dict(), "overcommitted": self.overcommitted}} if self.footprint else {}),
            **({"devices": {"busy_s": self.device_busy_s(), "imbalance": self.device_imbalance},
                "layers": self.layer_breakdown(), "parallel": self.parallel} if self.parallel else {}),
        }

    def summary(self) -> str:
        """The text `hwsim run` prints."""
        rate_unit = "tokens/s"
        lines = [
            f"{self.model} on {self.machine}: {self.phase}, batch {self.batch}, context {self.context}, "
            f"{self.precision}",
            f"  latency        {format_quantity(self.latency_s, 's')}"
            + ("  (time to first token)" if self.phase == "prefill" else
               f"  ({self.steps} decode steps, {format_quantity(self.latency_s / self.steps, 's')} each)"
               if self.steps > 1 else "  (per decode step)"),
            f"  throughput     {self.tokens_per_s:,.1f} {rate_unit}" + (
                f"; {self.pipelined_tokens_per_s:,.1f} with {self.parallel['pp']} in flight (one per pipeline stage)"
                if (self.parallel or {}).get("pp", 1) > 1 else ""),
            f"  energy         {format_quantity(self.energy_per_token_j, 'J')}/token"
            if self.energy_j else "  energy         not modeled for this machine",
            f"  bound          {self.bound}",
            f"  roofline floor {format_quantity(self.floor_s, 's')} "
            f"({self.floor_s / self.latency_s:.1%} of latency)" if self.latency_s else "",
            f"  OVERCOMMITTED  {overflow_message(self.footprint)}" if self.overcommitted else "",
            "  resources:",
        ]
        for group in _instance_groups(self.resources):
            lines.append(self._resource_line(group))
        by_kind = self.time_by("kind")
        total = sum(by_kind.values()) or 1.0
        lines.append("  operator time by kind (share of all operator time, summed over components):")
        for kind, seconds in list(by_kind.items())[:8]:
            lines.append(f"    {kind:<14} {format_quantity(seconds, 's'):>10}  {seconds / total:6.1%}")
        if self.parallel:
            lines += self._parallel_lines()
        lines += self._offload_lines()
        lines += table(self.footprint) if self.footprint else []
        return "\n".join(line for line in lines if line)

    def _resource_line(self, group: list[Resource]) -> str:
        """One resource, or one line for the same resource of identical instances ``name[i]``: the
        mean amount used, the utilisation as min / mean / max and the busiest instance (report.json
        keeps every instance)."""
        first = group[0]
        used = sum(r.used for r in group) / len(group)
        text = (f"    {_span(first.name, len(group)):<28} {format_quantity(used, first.unit.split('/')[0]):>12} used, "
                f"peak {format_quantity(first.capacity, first.unit):>12}, utilisation ")
        if len(group) == 1:
            return text + f"{self.utilisation(first):6.1%}"
        shares = [self.utilisation(r) for r in group]
        worst = max(group, key=self.utilisation).name.split(".")[0]
        return text + (f"min {min(shares):.1%} mean {sum(shares) / len(shares):.1%} max {max(shares):.1%} "
                       f"(mean used, peak each; worst {worst})")

    def _offload_lines(self) -> list[str]:
        """Expert cache figures of every component that offloads experts (``expert_hit_rate`` in its stats)."""
        lines = []
        for name, stats in self.components.items():
            if "expert_hit_rate" in stats:
                lines.append(f"  expert cache   {name}: hit rate {stats['expert_hit_rate']:.1%} "
                             f"({stats['expert_hits']:,} of {stats['expert_accesses']:,}), stall "
                             f"{format_quantity(stats['stall_s'], 's')} ({stats['stall_s'] / self.latency_s:.1%})")
                lines.append(f"                 fetched {format_quantity(stats['fetched_bytes'], 'B')} on demand, "
                             f"prefetched {format_quantity(stats['prefetched_bytes'], 'B')} "
                             f"({stats['prefetches']:,} matrices, {stats['wasted_prefetches']:,} unused)")
        return lines

    def _parallel_lines(self) -> list[str]:
        busy = self.device_busy_s()
        plan = ", ".join(f"{k} {v}" for k, v in self.parallel.items() if k in ("tp", "pp", "dp", "ep", "overlap"))
        worst = max(busy, key=busy.get)
        lines = [f"  parallelism    {plan}; device busy max/mean {self.device_imbalance:.3f}",
                 f"    {len(busy)} devices busy min {format_quantity(min(busy.values()), 's')}, mean "
                 f"{format_quantity(sum(busy.values()) / len(busy), 's')}, max "
                 f"{format_quantity(busy[worst], 's')} (worst d{worst}; every device in report.json)"]
        load = self.parallel.get("expert_load")
        if load:
            lines.append(f"  expert load    max/mean per layer {load['imbalance_mean']:.3f} "
                         f"(worst {load['imbalance_worst']:.3f}), placement {self.parallel['placement']}")
        rows = self.layer_breakdown()
        total = {key: sum(row[key] for row in rows) for key in ("compute_s", "dispatch_s", "combine_s",
                                                                  "collective_s", "imbalance_s")}
        lines.append("  per layer (s):  layer   compute  dispatch   combine  collect.  imbalance")
        moe = [row for row in rows if row["dispatch_s"]]       # report.json / layer_breakdown(): all
        for row in (moe or rows)[:3] + [{"layer": "sum", **total}]:
            lines.append(f"    {row['layer']:>15} " + " ".join(f"{format_quantity(row[key], 's'):>9}" for key in
                                                         ("compute_s", "dispatch_s", "combine_s", "collective_s",
                                                          "imbalance_s")))
        return lines


def _instance_groups(resources: list[Resource]) -> list[list[Resource]]:
    """``resources`` grouped by name with the instance index dropped (``gpu[3].memory`` ->
    ``gpu[].memory``), in order of first appearance: one group per resource of identical devices."""
    groups: dict[str, list[Resource]] = {}
    for resource in resources:
        groups.setdefault(re.sub(r"\[\d+\]", "[]", resource.name, count=1), []).append(resource)
    return list(groups.values())


def _span(name: str, count: int) -> str:
    """``gpu[0].memory`` of ``count`` > 1 instances -> ``gpu[0..count-1].memory``; one: the name."""
    return re.sub(r"\[\d+\]", f"[0..{count - 1}]", name, count=1) if count > 1 else name


def _device(component: str) -> Optional[int]:
    """``d`` of an instance name ``name[d]``, else None."""
    match = re.search(r"\[(\d+)\]$", component)
    return int(match.group(1)) if match else None
