"""Machine files (architectures/*.yaml): named components plus where each operator class runs.

    name: nvidia-a100-80gb-sxm
    source: "NVIDIA A100 datasheet ..."
    components:
      gpu: {type: analytic_device, peak: {bf16: 312TFLOPS}, memory: {capacity: 80GB, bandwidth: 2039GB/s}}
    mapping: {default: gpu}          # optionally per class: gemm, attention, vector, memory, communication

Several devices: a component with ``count: N`` is built N times, as ``gpu[0]`` .. ``gpu[N-1]``, and a
``parallelism:`` plan (``hwsim.mapping.parallel.ParallelPlan``: tp, pp, dp, ep, overlap, expert
placement) says how a step spreads over them; an operator runs on the instance of its
``Op.device``, communication on the fabric component (``type: link_fabric``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, NamedTuple, Optional

from pydantic import PositiveInt, field_validator

from hwsim import defaults
from hwsim.components.base import Component, build_component
from hwsim.config.counts import DEVICE_LIMIT
from hwsim.config.errors import ConfigError, did_you_mean
from hwsim.config.loader import SourceMap, find_file, load_document
from hwsim.config.schema import Strict, parse
from hwsim.engine import Simulator
from hwsim.mapping.host_offload import Offload
from hwsim.mapping.parallel import ParallelPlan
from hwsim.search.area import component_area
from hwsim.workload import precision
from hwsim.workload.model import shipped_models
from hwsim.workload.ops import CLASSES, Op
from hwsim.workload.precision import Precision
from hwsim.workload.trace import default_precision

ARCHITECTURES_DIR = Path(__file__).resolve().parents[1] / "architectures"


class Mapping(Strict):
    """Which component runs each operator: by name or kind in `ops` first (e.g. {lm_head: arm,
    softmax: asic}), then by operator class, then `default`.

    kv_prefetch: load earlier tokens' K/V in a `kv_load` op (class memory) as soon as the layer
    starts, overlapping the Q/K/V projections, instead of inside attention after them
    (hwsim.mapping.kv_prefetch; Cambricon-LLM, arXiv 2409.15654, Fig. 5). Off by default: a
    machine needs a DMA path that fetches the cache ahead of its consumer.

    offload: a share of every layer's weights and KV cache held in an `offload_memory` component and
    copied back layer by layer ahead of use (hwsim.mapping.host_offload); its `host_load` copies run
    on that component.

    dataflow: the `dataflow_device` whose PCUs and PMUs fused layers stream through: each decoder
    layer whose per-tile working set fits runs as one pipelined kernel with only its weights, KV cache, input and output in
    HBM (hwsim.mapping.dataflow; SambaNova SN40L, arXiv 2405.07518); under tensor parallelism each
    rank's operators between two all-reduces are one kernel."""

    default: str
    ops: dict[str, str] = {}
    gemm: Optional[str] = None
    attention: Optional[str] = None
    vector: Optional[str] = None
    memory: Optional[str] = None
    communication: Optional[str] = None
    kv_prefetch: bool = False
    offload: Optional[Offload] = None
    dataflow: Optional[str] = None


class Formats(Strict):
    """Number formats the machine runs unless a run says otherwise (e.g. INT8 for Cambricon-LLM)."""

    weights: Optional[str] = None
    activations: Optional[str] = None
    kv_cache: Optional[str] = None

    @field_validator("weights", "activations", "kv_cache")
    @classmethod
    def _known(cls, value):
        return value if value is None else precision.check(value)


class RunDefaults(Strict):
    """The workload the machine is for, run when the user leaves a key out: a shipped model name,
    the phase, the batch and the context (hwsim.defaults for the keys not given here). Its
    formats are the machine's `precision:`."""

    model: Optional[str] = None
    phase: Optional[Literal["prefill", "decode"]] = None
    batch: Optional[PositiveInt] = None
    context: Optional[PositiveInt] = None

    @field_validator("model")
    @classmethod
    def _shipped(cls, value):
        if value is not None and value not in shipped_models():
            raise ValueError(f"no shipped model '{value}'{did_you_mean(value, shipped_models())}")
        return value


class Workload(NamedTuple):
    """What one run simulates; ``model`` is a name, a path or a ModelSpec."""

    model: object
    phase: str
    batch: int
    context: int


class MachineSpec(Strict):
    name: str
    description: str
    source: str
    assumptions: str = ""            # what the sources do not give and the machine had to choose
    components: dict[str, dict]
    mapping: Mapping
    parallelism: Optional[ParallelPlan] = None
    precision: Formats = Formats()
    defaults: RunDefaults = RunDefaults()

    def copies(self, name: str) -> int:
        """How many instances of component ``name`` the machine has (its ``count:``, default 1)."""
        return self.components[name].get("count", 1) if isinstance(self.components[name], dict) else 1


@dataclass
class Machine:
    """A validated machine file; `build(sim)` instantiates its components."""

    spec: MachineSpec
    source: SourceMap
    path: Optional[Path] = None
    _placed: dict = field(default_factory=dict, init=False, repr=False, compare=False)   # placement's answers

    @property
    def name(self) -> str:
        return self.spec.name

    def build(self, sim: Simulator) -> dict[str, Component]:
        built = {}
        for name, raw in self.spec.components.items():
            for instance in _instances(name, self.spec.copies(name)):
                built[instance] = build_component(instance, _without_count(raw), self.source, ("components", name), sim)
        return built

    def workload(self, model=None, phase=None, batch=None, context=None) -> Workload:
        """The run's model, phase, batch and context: each as the user gives it (None: not given),
        else the machine's `defaults:`, else hwsim.defaults. `hwsim run` and hwsim.simulate both
        resolve here, so the precedence lives in one place."""
        given = Workload(model, phase, batch, context)
        return Workload(*(next(v for v in (value, getattr(self.spec.defaults, key), getattr(defaults, key.upper()))
                               if v is not None) for key, value in given._asdict().items()))

    def precision_for(self, model, **overrides) -> Precision:
        """The formats of a run: the model's own, then the machine's `precision:`, then `overrides`
        (keyword weights/activations/kv_cache; None means not given)."""
        formats = {**self.spec.precision.model_dump(exclude_none=True),
                   **{k: v for k, v in overrides.items() if v is not None}}
        return replace(default_precision(model), **formats)

    def placement(self, op: Op) -> str:
        """Name of the component (instance) that runs `op`, remembered by what it depends on (a
        step asks several times per operator, and every layer's operators alike)."""
        key = (op.name, op.kind, op.op_class, op.device)
        name = self._placed.get(key)
        if name is None:
            name = self._placed[key] = self._place(op)
        return name

    def _place(self, op: Op) -> str:
        mapping = self.spec.mapping
        name = (mapping.ops.get(op.name) or mapping.ops.get(op.kind)
                or (mapping.offload.memory if op.kind == "host_load" and mapping.offload else None)
                or getattr(mapping, op.op_class) or mapping.default)
        return f"{name}[{max(op.device, 0)}]" if self.spec.copies(name) > 1 else name


def _instances(name: str, count: int) -> list[str]:
    return [f"{name}[{i}]" for i in range(count)] if count > 1 else [name]


MACHINE_KEYS = ("count", "area")   # keys of a component that the machine reads, not the component


def _without_count(raw):
    """The component's own parameters: its data without `count:` and `area:` (hwsim/search/area.py)."""
    return {k: v for k, v in raw.items() if k not in MACHINE_KEYS} if isinstance(raw, dict) else raw


def _check(spec: MachineSpec, source: SourceMap) -> None:
    """Validate every component's parameters and the mapping's component names up front."""
    problems = []
    for name, raw in spec.components.items():
        count = raw.get("count", 1) if isinstance(raw, dict) else 1
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= DEVICE_LIMIT:
            problems.append(source.problem(("components", name, "count"),
                                           f"must be an integer from 1 to {DEVICE_LIMIT}, got {count!r}"))
        elif spec.parallelism and count > 1 and count != spec.parallelism.devices:
            problems.append(source.problem(("components", name, "count"),
                                           f"{count} copies, but the parallelism plan uses {spec.parallelism.devices} "
                                           f"devices (tp x pp x dp)"))
        try:
            build_component(name, _without_count(raw), source, ("components", name), Simulator())
            component_area(name, spec.components, source)        # its rules read the parameters just checked
        except ConfigError as exc:
            problems += exc.problems
    targets = {("mapping", c): getattr(spec.mapping, c) for c in ("default", *CLASSES)}
    targets.update({("mapping", "ops", name): target for name, target in spec.mapping.ops.items()})
    if spec.mapping.offload is not None:
        memory = spec.mapping.offload.memory
        targets[("mapping", "offload", "memory")] = memory
        if memory in spec.components and spec.components[memory].get("type") != "offload_memory":
            problems.append(source.problem(("mapping", "offload", "memory"),
                                           f"'{memory}' is of type {spec.components[memory].get('type')}; spilled bytes "
                                           f"live in an offload_memory component"))
        devices = spec.parallelism.devices if spec.parallelism is not None else 1
        if devices > 1 and memory in spec.components and spec.copies(memory) != devices:
            problems.append(source.problem(("mapping", "offload", "memory"),
                                           f"each of the {devices} devices spills into its own copy: '{memory}' "
                                           f"needs count: {devices}, has {spec.copies(memory)}"))
    if spec.mapping.dataflow is not None:
        device = spec.mapping.dataflow
        targets[("mapping", "dataflow")] = device
        if device in spec.components and spec.components[device].get("type") != "dataflow_device":
            problems.append(source.problem(("mapping", "dataflow"),
                                           f"'{device}' is of type {spec.components[device].get('type')}; fused "
                                           f"layers stream through the SRAM of a dataflow_device"))
        plan = spec.parallelism
        if plan is not None and (plan.ep > 1 or plan.pp > 1):
            problems.append(source.problem(("mapping", "dataflow"), "fuses each rank's layers between "
                                           "tensor-parallel collectives; expert or pipeline parallelism "
                                           "cannot use it yet"))
    for path, target in targets.items():
        if target is not None and target not in spec.components:
            problems.append(source.problem(path, f"no component named '{target}'{did_you_mean(target, spec.components)}"))
    if problems:
        raise ConfigError(problems)


def machine_from_dict(data: dict, source: SourceMap | None = None) -> Machine:
    """Build a Machine from plain data (Python API, sweeps)."""
    source = source or SourceMap("<dict>")
    spec = parse(MachineSpec, data, source)
    _check(spec, source)
    return Machine(spec, source)


def load_machine(path_or_name) -> Machine:
    """Load a machine file, or a shipped architecture by name ('a100_80gb')."""
    path = find_file(path_or_name, ARCHITECTURES_DIR, "architecture")
    doc = load_document(path, search_dirs=[ARCHITECTURES_DIR])
    machine = machine_from_dict(doc.data, doc.source)
    machine.path = path
    return machine


def shipped_machines() -> list[str]:
    return sorted(p.stem for p in ARCHITECTURES_DIR.glob("*.yaml"))

