"""Component interface and registry (Ramulator-style `type:` -> implementation, SST-style metadata).

A component class declares, on the class:
  - `type_name`: the name a machine file uses (`type: analytic_device`);
  - `Params`: a strict schema of its parameters (typed, with units and descriptions);
  - `stats`: the statistics it reports, name -> description with unit.
It receives whole operators (transactions), computes their exact timing against its own
state, and schedules one completion event: never one Python event per cycle.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Optional

from hwsim.config.errors import ConfigError, did_you_mean
from hwsim.config.loader import SourceMap
from hwsim.config.schema import Strict, parse
from hwsim.engine import Simulator
from hwsim.workload.ops import Op

REGISTRY: dict[str, type["Component"]] = {}


def ps(seconds: float) -> int:
    """Seconds -> whole picoseconds, rounded up (a duration is never shortened), float noise ignored."""
    return math.ceil(round(seconds * 1e12, 6))


def register(cls: type["Component"]) -> type["Component"]:
    """Class decorator: make `cls` available to machine files as `type: <cls.type_name>`."""
    if cls.type_name in REGISTRY:
        raise ValueError(f"component type '{cls.type_name}' registered twice")
    REGISTRY[cls.type_name] = cls
    return cls


@dataclass(frozen=True)
class Resource:
    """A throughput a component offers and how much of it a run consumed.

    The roofline floor of a run is max(used / capacity) over all resources: no simulated
    time may be shorter.
    """

    name: str          # 'gpu.hbm', 'gpu.compute'
    unit: str          # unit of `capacity` ('B/s', 'FLOP/s')
    capacity: float    # per second
    used: float        # total amount consumed (bytes, FLOPs)
    floor_s: float     # seconds the used amount needs at full capacity


@dataclass(frozen=True)
class Memory:
    """A memory a component offers for bytes that must stay resident (``hwsim.capacity``).

    ``holds``: the kinds of bytes it keeps: 'weights', 'experts' (routed MoE experts), 'kv' (the KV
    cache), 'activations'. ``capacity`` in bytes, None when no source gives it (the bytes are then
    listed, not checked). ``reserved``: bytes set aside for something other than the run's bytes (an
    expert cache's share of device memory).
    """

    name: str                   # 'gpu.memory', 'soc.backing'
    capacity: Optional[float]   # bytes
    holds: frozenset
    reserved: float = 0.0
    reserved_for: str = ""      # what the reserved bytes hold ('expert cache')


ALL_BYTES = frozenset({"weights", "experts", "kv", "activations"})


@dataclass(frozen=True)
class Execution:
    """What a component reports for one operator it ran."""

    start_ps: int
    end_ps: int
    bound: str                  # the resource that set this operator's time
    energy_j: float = 0.0


class Component:
    """Base class of every hardware component model."""

    type_name: ClassVar[str]
    Params: ClassVar[type[Strict]]
    stats: ClassVar[dict[str, str]] = {}

    def __init__(self, name: str, params: Strict, sim: Simulator):
        self.name = name
        self.params = params
        self.sim = sim

    def prepare(self, traffic: dict) -> None:
        """Called once before a run with the trace's routed all-to-all byte matrices by op id
        (``hwsim.mapping.parallel``); components that time communication keep them."""

    def memories(self) -> list[Memory]:
        """The memories this component keeps bytes in (none by default: its bytes are listed, unchecked)."""
        return []

    def memory_owner(self) -> Optional[str]:
        """The component whose memories hold this one's bytes (LUT units beside a GPU read its HBM);
        None: its own ``memories()``."""
        return None

    def cached_share(self) -> float:
        """Share of the weights in this component's own memories that it also keeps in its memory
        owner's (PowerInfer-2's neuron cache holds part of the FFN that lives in flash); 0: none."""
        return 0.0

    def memory_for(self, kind: str, op: Op) -> Optional[Memory]:
        """The memory holding the ``kind`` bytes of ``op`` when ``op`` runs here (its first memory that
        holds that kind; None: not modeled). Components that stream some weights override this."""
        return next((m for m in self.memories() if kind in m.holds), None)

    def submit(self, op: Op, done: Callable[[Op, Execution], None]) -> None:
        """Accept an operator now (sim.now); call `done(op, execution)` at its completion time."""
        raise NotImplementedError

    def resources(self) -> list[Resource]:
        """Throughput resources and their use so far (for the roofline floor and the bound)."""
        raise NotImplementedError

    def static_energy_j(self, elapsed_s: float) -> float:
        """Energy not attributable to single operators (leakage, background), over `elapsed_s`."""
        return 0.0

    def statistics(self) -> dict[str, float]:
        return {}


@dataclass(frozen=True)
class OpTiming:
    """How long one operator takes on an idle serial component, and what it consumes.

    `used` maps a resource suffix ('compute', 'memory') to the amount consumed (FLOPs, bytes);
    `floor_s` maps it to the seconds that amount needs at the resource's peak rate (give it for
    resources whose peak depends on the operator; the others run at `capacity`).
    `duration_ps`, when given, is the exact whole-ps duration (else duration_s rounded up);
    `counts` are per-operator tallies (cycles, pages) summed into the statistics under their names.
    """

    duration_s: float
    bound: str
    used: dict[str, float] = field(default_factory=dict)
    floor_s: dict[str, float] = field(default_factory=dict)
    energy_j: float = 0.0
    duration_ps: Optional[int] = None
    counts: dict[str, float] = field(default_factory=dict)


class SerialComponent(Component):
    """A component that runs one operator at a time, in arrival order (kernels on one stream).

    Subclasses implement `time(op) -> OpTiming` and declare `resource_units` (suffix -> unit of
    the rate, e.g. {'compute': 'FLOP/s', 'memory': 'B/s'}); this class keeps the queue, the
    totals behind the roofline floor and the energy at the optional `params.power`.
    """

    resource_units: ClassVar[dict[str, str]] = {}
    # time(op) depends on the op alone, never on operators run before: a step on this component
    # alone then lasts the sum of its operators' times (the serving layer's additive cost uses it)
    pure_timing: ClassVar[bool] = False

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        self._free_at_ps = 0
        self._busy_ps = 0
        self._used: dict[str, float] = defaultdict(float)
        self._floor_s: dict[str, float] = defaultdict(float)
        self._counts: dict[str, float] = defaultdict(int)

    def time(self, op: Op) -> OpTiming:
        raise NotImplementedError

    def charge(self, timing: OpTiming) -> tuple[int, float]:
        """(duration in ps, energy in J) of an operator timed as `timing`."""
        duration_ps = timing.duration_ps if timing.duration_ps is not None else math.ceil(timing.duration_s * 1e12)
        return duration_ps, timing.energy_j + (getattr(self.params, "power", None) or 0.0) * duration_ps * 1e-12

    def schedule(self, op: Op, duration_ps: int) -> tuple[int, int]:
        """(start, end) in ps of ``op`` lasting ``duration_ps``: as soon as it is ready and the
        component is free (a subclass whose operators also wait for something else overrides it)."""
        start = max(self.sim.now, self._free_at_ps)
        return start, start + duration_ps

    def submit(self, op, done):
        timing = self.time(op)
        duration_ps, energy = self.charge(timing)
        start, end = self.schedule(op, duration_ps)
        self._free_at_ps = end
        self._busy_ps += duration_ps
        for resource, amount in timing.used.items():
            self._used[resource] += amount
        for resource, seconds in timing.floor_s.items():
            self._floor_s[resource] += seconds
        for name, amount in timing.counts.items():
            self._counts[name] += amount
        self.sim.schedule_at(end, done, op, Execution(start, end, f"{self.name}.{timing.bound}", energy))

    def capacity(self, resource: str) -> float:
        """Peak rate of `resource` (for one with per-operator floors: when nothing ran on it)."""
        raise NotImplementedError

    def resources(self):
        result = []
        for resource, unit in self.resource_units.items():
            used = self._used[resource]
            if resource in self._floor_s:     # peak varies by operator: the rate the floors imply
                floor = self._floor_s[resource]
                rate = used / floor if floor else self.capacity(resource)
            else:                             # one fixed peak
                rate = self.capacity(resource)
                floor = used / rate
            result.append(Resource(f"{self.name}.{resource}", unit, rate, used, floor))
        return result

    def statistics(self):
        return {"busy_s": self._busy_ps * 1e-12, **{f"{r}_used": v for r, v in self._used.items()}, **self._counts}


def component_types() -> list[str]:
    import hwsim.components.catalog  # noqa: F401  (imports every implementation)
    return sorted(REGISTRY)


def build_component(name: str, raw: dict, source: SourceMap, path: tuple, sim: Simulator) -> Component:
    """Instantiate the component a machine file describes at `path`, validating its params."""
    component_types()
    if not isinstance(raw, dict) or "type" not in raw:
        raise ConfigError([source.problem(path + ("type",),
                                          f"missing required key (one of: {', '.join(sorted(REGISTRY))})")])
    type_name = raw["type"]
    cls = REGISTRY.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise ConfigError([source.problem(path + ("type",),
                                          f"unknown component type '{type_name}'{did_you_mean(type_name, REGISTRY)}"
                                          f"; known: {', '.join(sorted(REGISTRY))}")])
    params = parse(cls.Params, {k: v for k, v in raw.items() if k != "type"}, source, path)
    try:
        return cls(name, params, sim)
    except (KeyError, ValueError) as exc:  # parameters the schema alone cannot judge (a preset's timings)
        raise ConfigError([source.problem(path, str(exc.args[0]) if exc.args else repr(exc))]) from None


def run_alone(name: str, raw: dict, ops: list[Op]) -> tuple[list[Execution], Component]:
    """Build component `name` from its machine-file entry `raw`, alone; submit `ops` at time 0, run to the end.

    Returns the executions in completion order and the component (statistics, resources): exact
    timing of a few operators without a machine or a trace (tests, single-component studies).
    """
    sim = Simulator()
    component = build_component(name, raw, SourceMap("<dict>"), ("components", name), sim)
    runs: list[Execution] = []
    for op in ops:
        component.submit(op, lambda op, run: runs.append(run))
    sim.run()
    return runs, component
