"""Silicon area and die cost of a machine, from published figures.

A component declares its area in the machine file, per copy (`count:` copies are multiplied):

    area: {mm2: 826, node_nm: 7, source: "NVIDIA A100 whitepaper: 826 mm^2, TSMC 7 nm"}   # as published
    area: {figure: lut_tensor_core_a100_8x_sm, times: units / 4, node_nm: 7}   # a figure's units, counted
    area: {figure: cent_pnm, dies: pim.devices, node_nm: 7}    # one figure on each of several dies
    area: {mm2: 0, source: "runs on the CPU's own SIMD units"}   # no silicon of its own (no node)
    area: {node_nm: 7}       # computed from the component's parameters by its type's rule (RULES)
    area: unknown            # no source gives it (the same as no `area:`; overrides an inherited one)

`times` (figure units on one die) and `dies` (separate identical dies per copy, each costed on its own
wafer share) are numbers or expressions over the machine's parameters: the component's own by their
path (`units`, `reduction.lanes`), another component's behind its name (`pim.devices`). So a search
that sweeps a count (devices, channels, units) gets the area and cost of each design, not of the file's.

A component without a sourced area has an unknown area: the roll-up lists it, and an objective that
needs area refuses the machine (AreaUnknown).

Figures (area_figures.yaml) are published areas as data, one row per figure with its source. A
figure used at another node than its own is moved by logic transistor density: area x density(from)
/ density(to), with the densities of the node table below (ttm-cas, from CSET), the density
LLMCompass's area model also divides transistor counts by. Rules (figures carried over from their
sources, not code):

- `npu`: every PE of every tile's systolic array is one fp16 FPU and the scratchpad is SRAM, as
  LLMCompass's area model counts them (PrincetonUniversity/LLMCompass, cost_model/cost_model.py):
  an fp64 FPU has 685,300 transistors and an FPU scales with its mantissa bits squared (fp16: 10 of
  52); SRAM is bit cells (mm^2 per bit) over an array efficiency that depends on the array size
  (CACTI-derived, 4 KB to 512 KB arrays; larger memories are several 512 KB arrays). Control,
  vector unit, DMA and NoC are not counted (LLMCompass's per-core control figures are GPU SMs').
- `vector_unit`: one fp16 FPU per lane of every unit, as LLMCompass's vector-unit area counts FPUs per
  lane (calc_vector_area_mm2); its control, buffers and special-function units are not counted.

Die cost (ttm-cas, PrincetonUniversity/ttm-cas supply_chain_model.py, the cost model LLMCompass
uses): dies per 300 mm wafer = pi (d/2)^2 / A - pi d / sqrt(2 A); negative-binomial yield
(1 + A D0 / alpha)^-alpha with cluster parameter alpha = 3 and the node's defect density D0
(estimated from TSMC's public 10 nm and 5 nm slides); wafer prices and transistor densities from
Khan and Mann, "AI Chips: What They Are and Why They Matter" (CSET, 2020). Cost = wafer price /
(good dies per wafer): silicon only, no packaging, test or margin. Memory dies (HBM stacks) have no
sourced wafer price: `memory: {kind: hbm, capacity: memory.capacity}` adds them to the cost at a
market price (memory_cost.py); their area is not in the roll-up.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import yaml
from pydantic import NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from hwsim.config.errors import ConfigError, did_you_mean
from hwsim.config.loader import SourceMap
from hwsim.config.schema import Strict, parse
from hwsim.config.units import parse_quantity
from hwsim.search.memory_cost import MemorySpec, memory_usd
from hwsim.sweep.expr import Expression

# process node (nm) -> (million transistors per mm^2, USD per 300 mm wafer, defects per mm^2); ttm-cas
NODES = {250: (0.074, 900, 500e-6), 180: (0.39, 1020, 500e-6), 130: (0.92, 1580, 500e-6),
         90: (1.6, 1650, 500e-6), 65: (3.3, 1937, 500e-6), 40: (7.7, 2274, 500e-6),
         28: (15.3, 2891, 500e-6), 20: (22.1, 3677, 800e-6), 14: (28.9, 3984, 1000e-6),
         10: (52.5, 5992, 1200e-6), 7: (96.3, 9346, 1500e-6), 5: (138.2, 16988, 2000e-6)}
WAFER_DIAMETER_MM = 300            # ttm-cas assumes 300 mm wafers at every node
YIELD_CLUSTER = 3                  # negative-binomial cluster parameter alpha, ttm-cas
FP64_FPU_TRANSISTORS = 685_300     # LLMCompass (Ariane and OpenPiton SPARC T1 FPUs)
FP16_FPU_TRANSISTORS = FP64_FPU_TRANSISTORS * (10 / 52) ** 2   # mantissa bits squared, LLMCompass
SRAM_BITCELL_MM2 = {7: 1.70e-7, 5: 1.25e-7}                    # mm^2 per bit, LLMCompass
SRAM_EFFICIENCY = {4096: 0.076, 8192: 0.142, 16384: 0.247, 32768: 0.393, 65536: 0.559,
                   131072: 0.704, 262144: 0.526, 524288: 0.602}   # array bytes -> cell share, LLMCompass
SRAM_ARRAY_MAX_B = 524288
LLMCOMPASS = "LLMCompass cost_model.py: fp16 FPU per PE, SRAM bit cells over CACTI array efficiency"
FIGURES = yaml.safe_load(Path(__file__).with_name("area_figures.yaml").read_text())


class AreaUnknown(ValueError):
    """An objective needs the area of a machine whose area no source gives."""


class AreaSpec(Strict):
    """A component's `area:` block (per copy): a published mm2, a figure of the table, or its type's rule."""

    node_nm: Optional[PositiveInt] = None
    mm2: Optional[NonNegativeFloat] = None   # as a source publishes it
    source: Optional[str] = None             # required with mm2
    figure: Optional[str] = None             # a row of area_figures.yaml
    times: Union[PositiveFloat, str] = 1     # figure units on one die: a number or an expression over parameters
    dies: Union[PositiveInt, str] = 1        # identical dies in one copy, each holding `times` units
    memory: Optional[MemorySpec] = None      # memory dies at their market price (cost only)

    @model_validator(mode="after")
    def _sourced(self):
        if self.mm2 is not None and self.figure is not None:
            raise ValueError("give mm2 (with its source) or a figure, not both")
        if self.figure is not None and self.figure not in FIGURES:
            raise ValueError(f"no area figure '{self.figure}'{did_you_mean(self.figure, FIGURES)}; figures: "
                             f"{', '.join(FIGURES)} (hwsim/search/area_figures.yaml)")
        if self.figure is not None and self.source:
            raise ValueError("a figure's source is its row in hwsim/search/area_figures.yaml: remove source:")
        if self.figure is None and self.times != 1:
            raise ValueError("times: counts a figure's units; give a figure")
        if self.mm2 == 0 and self.dies != 1:
            raise ValueError("dies: counts dies of silicon; a zero mm2 has none")
        if self.mm2 is not None and not self.source:
            raise ValueError("a declared mm2 needs its source: (paper, table or datasheet)")
        if self.node_nm is None and self.mm2 != 0:
            raise ValueError("node_nm is needed (only a zero mm2 has no node)")
        if self.node_nm is not None and self.node_nm not in NODES:
            raise ValueError(f"node_nm {self.node_nm}: no wafer price or defect density for it; known nodes "
                             f"(nm): {', '.join(map(str, NODES))}")
        return self


def scale_logic_mm2(mm2: float, from_nm: int, to_nm: int) -> float:
    """Logic area at `from_nm` moved to `to_nm` in inverse proportion to transistor density (NODES)."""
    return mm2 * NODES[from_nm][0] / NODES[to_nm][0]


def figure_mm2(name: str, times: float, node_nm: int) -> tuple[float, int, str]:
    """Area of `times` units of figure `name` at `node_nm`, the node, and the source line that says how it
    was got."""
    row = FIGURES[name]
    mm2 = times * scale_logic_mm2(row["mm2"], row["node_nm"], node_nm)
    moved = (f", moved from {row['node_nm']} to {node_nm} nm by transistor density (ttm-cas)"
             if row["node_nm"] != node_nm else "")
    return mm2, node_nm, f"{times:g} x {row['mm2']} mm^2 ({row['unit']}){moved}: {row['source']}"


def sram_mm2(size_bytes: int, node_nm: int) -> float:
    """Area of an SRAM of `size_bytes` at `node_nm` (LLMCompass's model; 7 and 5 nm bit cells)."""
    if node_nm not in SRAM_BITCELL_MM2:
        raise ValueError(f"no SRAM bit-cell area at {node_nm} nm (known: "
                         f"{', '.join(f'{n} nm' for n in SRAM_BITCELL_MM2)})")
    arrays = max(1, math.ceil(size_bytes / SRAM_ARRAY_MAX_B))
    array_bytes = max(4096, min(size_bytes, SRAM_ARRAY_MAX_B))
    efficiency = SRAM_EFFICIENCY[2 ** math.ceil(math.log2(array_bytes))]
    return arrays * array_bytes * 8 * SRAM_BITCELL_MM2[node_nm] / efficiency


def fpus_mm2(count: int, node_nm: int) -> float:
    """`count` fp16 FPUs at `node_nm`: their transistors over the node's transistor density."""
    return count * FP16_FPU_TRANSISTORS / 1e6 / NODES[node_nm][0]


def npu_mm2(params: dict, node_nm: int) -> float:
    """PE arrays (one fp16 FPU per PE) plus the scratchpad of an `npu` component."""
    pes = params["tiles"] * params["array"]["rows"] * params["array"]["cols"]
    return fpus_mm2(pes, node_nm) + sram_mm2(int(parse_quantity(params["scratchpad"]["size"], "size")), node_nm)


def vector_unit_mm2(params: dict, node_nm: int) -> float:
    """The lanes of a `vector_unit` component, one fp16 FPU each."""
    return fpus_mm2(params.get("units", 1) * params["lanes"], node_nm)


RULES = {"npu": (npu_mm2, LLMCOMPASS),
         "vector_unit": (vector_unit_mm2, "LLMCompass cost_model.py: one fp16 FPU per vector lane (control, buffers "
                                          "and special-function units not counted)")}


def dies_per_wafer(mm2: float) -> float:
    """Whole dies of `mm2` on a 300 mm wafer (edge loss term pi d / sqrt(2 A))."""
    d = WAFER_DIAMETER_MM
    return math.pi * (d / 2) ** 2 / mm2 - math.pi * d / math.sqrt(2 * mm2)


def die_yield(mm2: float, node_nm: int) -> float:
    """Negative-binomial yield (1 + A D0 / alpha)^-alpha."""
    return (1 + mm2 * NODES[node_nm][2] / YIELD_CLUSTER) ** -YIELD_CLUSTER


def die_cost_usd(mm2: float, node_nm: int) -> float:
    """Wafer price over good dies per wafer."""
    good = dies_per_wafer(mm2) * die_yield(mm2, node_nm)
    if good <= 0:
        raise ValueError(f"a {mm2:g} mm^2 die does not fit on a {WAFER_DIAMETER_MM} mm wafer")
    return NODES[node_nm][1] / good


def parameters(components: dict, name: str) -> dict:
    """The parameters an area count or a memory capacity may name: the component's own by path, the
    others' behind their name."""
    values = {}

    def walk(data, prefix):
        for key, value in data.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                values[f"{prefix}{key}"] = value

    for other, raw in components.items():
        if other != name and isinstance(raw, dict):
            walk(raw, f"{other}.")
    walk(components[name], "")
    return values


def count(value: Union[float, str], values: dict, what: str, whole: bool) -> float:
    """A `times` or `dies` entry: its number, or its expression's value over `values` (ValueError if it is
    not a positive number, or not a whole one when `whole`)."""
    if not isinstance(value, str):
        return value
    numbers = {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    try:
        result = Expression(value, set(numbers)).evaluate(numbers)
    except (ArithmeticError, TypeError) as exc:
        raise ValueError(f"{what}: '{value}' cannot be evaluated ({exc})") from None
    if isinstance(result, bool) or not isinstance(result, (int, float)) or result <= 0:
        raise ValueError(f"{what}: '{value}' gives {result!r}, not a positive number")
    if whole and not float(result).is_integer():
        raise ValueError(f"{what}: '{value}' gives {result!r}, not a whole number of dies")
    return int(result) if whole else float(result)


@dataclass(frozen=True)
class ComponentArea:
    name: str
    copies: int
    dies: int                # identical dies per copy
    die_mm2: float
    node_nm: Optional[int]   # None: no silicon of its own (mm2 0)
    source: str
    memory_usd: float = 0.0  # memory dies bought with one copy (memory_prices.yaml)

    @property
    def mm2(self) -> float:
        """Silicon of one copy."""
        return self.dies * self.die_mm2

    @property
    def cost_usd(self) -> float:
        dies = self.dies * die_cost_usd(self.die_mm2, self.node_nm) if self.die_mm2 else 0.0
        return self.copies * (dies + self.memory_usd)


def component_area(name: str, components: dict, source: Optional[SourceMap] = None) -> Optional[ComponentArea]:
    """The area of component `name` of a machine's raw `components` data, or None when it is unknown. A bad
    `area:` block (or a count it cannot evaluate) is a ConfigError naming its line (with `source`)."""
    raw = components[name]
    if not isinstance(raw, dict) or raw.get("area", "unknown") == "unknown":
        return None
    source = source or SourceMap("<dict>")
    path = ("components", name, "area")
    spec = parse(AreaSpec, raw["area"], source, path)
    values = parameters(components, name)
    try:
        dies = count(spec.dies, values, "dies", whole=True)
        times = count(spec.times, values, "times", whole=False)
        memory, memory_source = memory_usd(spec.memory, values) if spec.memory else (0.0, "")
    except ValueError as exc:
        raise ConfigError([source.problem(path, str(exc))]) from None
    if spec.mm2 is not None:
        mm2, node_nm, area_source = spec.mm2, spec.node_nm, spec.source
    elif spec.figure is not None:
        mm2, node_nm, area_source = figure_mm2(spec.figure, times, spec.node_nm)
    elif raw.get("type") in RULES:
        rule, area_source = RULES[raw["type"]]
        mm2, node_nm = rule(raw, spec.node_nm), spec.node_nm
    else:
        raise ConfigError([source.problem(path, f"no area rule for type '{raw.get('type')}' (rules: "
                                                f"{', '.join(RULES)}): give mm2 and its source")])
    return ComponentArea(name, raw.get("count", 1), dies, mm2, node_nm, area_source + memory_source, memory)


@dataclass(frozen=True)
class MachineArea:
    """The roll-up: every component with a sourced area, and the names of those without."""

    machine: str
    components: tuple[ComponentArea, ...]
    unknown: tuple[str, ...]

    @property
    def mm2(self) -> float:
        self.require("the area sum")
        return sum(c.copies * c.mm2 for c in self.components)

    @property
    def cost_usd(self) -> float:
        self.require("the die cost")
        return sum(c.cost_usd for c in self.components)

    def require(self, needed_by: str) -> None:
        """AreaUnknown (one line) if any component's area is unknown."""
        if self.unknown:
            raise AreaUnknown(f"{needed_by} needs the area of machine '{self.machine}', but components "
                              f"{', '.join(self.unknown)} have area: unknown (give each an area: {{mm2, node_nm, "
                              f"source}})")


def machine_area(machine: dict) -> MachineArea:
    """Roll up the area of a machine's data (a machine file after `extends:`)."""
    components = machine["components"]
    areas = {name: component_area(name, components) for name in components}
    return MachineArea(machine["name"], tuple(a for a in areas.values() if a is not None),
                       tuple(name for name, a in areas.items() if a is None))
