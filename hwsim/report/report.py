"""The result of one simulated inference step: timing, throughput, energy, bound, per-op records."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

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

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.latency_s if self.latency_s else float("inf")

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

    def to_dict(self) -> dict:
        return {
            "machine": self.machine, "model": self.model, "phase": self.phase,
            "batch": self.batch, "context": self.context, "precision": self.precision, "seed": self.seed,
            "latency_s": self.latency_s, "tokens": self.tokens, "tokens_per_s": self.tokens_per_s,
            "energy_j": self.energy_j, "energy_per_token_j": self.energy_per_token_j,
            "bound": self.bound, "roofline_floor_s": self.floor_s,
            "resources": [{**asdict(r), "utilisation": self.utilisation(r)} for r in self.resources],
            "components": self.components,
            "time_by_kind_s": self.time_by("kind"),
            "time_by_bound_s": self.time_by("bound"),
            "ops": len(self.ops),
        }

    def summary(self) -> str:
        """The text `hwsim run` prints."""
        rate_unit = "tokens/s"
        lines = [
            f"{self.model} on {self.machine}: {self.phase}, batch {self.batch}, context {self.context}, "
            f"{self.precision}",
            f"  latency        {format_quantity(self.latency_s, 's')}"
            + ("  (time to first token)" if self.phase == "prefill" else "  (per decode step)"),
            f"  throughput     {self.tokens_per_s:,.1f} {rate_unit}",
            f"  energy         {format_quantity(self.energy_per_token_j, 'J')}/token"
            if self.energy_j else "  energy         not modeled for this machine",
            f"  bound          {self.bound}",
            f"  roofline floor {format_quantity(self.floor_s, 's')} "
            f"({self.floor_s / self.latency_s:.1%} of latency)" if self.latency_s else "",
            "  resources:",
        ]
        for r in self.resources:
            lines.append(f"    {r.name:<28} {format_quantity(r.used, r.unit.split('/')[0]):>12} used, "
                         f"peak {format_quantity(r.capacity, r.unit):>12}, utilisation {self.utilisation(r):6.1%}")
        lines.append("  time by operator kind:")
        for kind, seconds in list(self.time_by("kind").items())[:8]:
            lines.append(f"    {kind:<14} {format_quantity(seconds, 's'):>10}  {seconds / self.latency_s:6.1%}")
        return "\n".join(line for line in lines if line)
