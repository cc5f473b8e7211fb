"""Matmuls with low-bit weights on an array of SRAM lookup-table units fed from DRAM.

Each matmul op (count x (m x k) @ (k x n)) is tiled over the `units` LUT units as a grid of
um x un units (um * un = units, rows x output columns), the grid with the fewest cycles; a unit
takes `LutUnit.cycles(ceil(m/um), ceil(n/un), k, planes)` cycles (timing.py). Its weights
stream from DRAM once per op (on-chip buffers serve every row of the op), in the unit's own
layout: `index_bits` per group of g weights per bit plane, over the K padded to whole steps;
or, with `weight_buffer`, in the buffer's DRAM word layout (whole regions of cols x steps, words
of `word_bits` carrying `cols_per_word` columns of one step, one word loaded per cycle, or per
ceil(word_bits / port_bits) cycles when the DRAM ports are narrower than the word).
DRAM sustains `memory_efficiency` of its peak `memory_bandwidth`; with `per_core` the units are
CPU cores (T-MAC: one thread per core) and each streams within its misses in flight, the same
limits as the `cpu` component (cpu/memory.py): min(units x per-core limit, peak x efficiency).
Weight loading and lookups either overlap (double-buffered weight buffers) or run back to back.
`passes` names ops the hardware runs as equal column slices one after another (TeLLMe's Q, K and V
for the trace's fused qkv): each pass reads the input again, builds its own tables and loads and
drains its own weights.

The op's weight format is read from its bytes: weight_bytes * 8 / (n k count) is the trace's
bits per weight (precision.BITS; ternary 1.6). Ternary runs as `ternary_planes` lookups per
group (TeLLMe's 27-pattern table: 1 plane, 5-bit index; T-MAC runs BitNet as 2 bit planes).

`table_of: weights` transposes the roles (SAIL): tables of 2^g sums of g weights are built from
the weights streamed in their storage format, and each activation bit plane of g activations
indexes them, so the unit's rows are weight rows, its columns tokens and the bit-serial loop runs
over the activation bits (read from act_in_bytes). A batch of tokens reuses every table built.
DRAM figures are given (`memory_bandwidth`) or measured on a DRAM preset (`dram`, `channels`).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal, Optional

import numpy as np
from pydantic import Field, model_validator

from hwsim.components.base import OpTiming, SerialComponent, ps, register
from hwsim.components.cpu.memory import CoreMemory, sustained_bandwidth
from hwsim.components.sram_lut.timing import LutUnit
from hwsim.config.counts import Bits, Count, CountOrZero, Cycles
from hwsim.config.schema import Strict
from hwsim.components.npu.dma import DmaParams, dma_figures
from hwsim.config.units import Bandwidth, Frequency, Power
from hwsim.workload import precision


class UnitShape(Strict):
    """One LUT unit (see timing.LutUnit): cycle counts may be 0 (none), and so may the port, bank
    and capacity limits, where 0 means unlimited."""

    g: int = Field(gt=0, le=16)           # activations per group: a table holds 2^g entries (T-MAC: 4)
    lanes: Count
    tables: Count = 1
    rows: Count = 1
    acts_per_cycle: Count
    drain: Cycles = 1
    fixed: Cycles = 0
    setup: Cycles = 0
    overlap: bool = False
    entry_bits: Count = 8
    weight_banks: CountOrZero = 0
    weight_ports: Count = 1
    table_ports: CountOrZero = 0
    table_capacity_bits: Bits = 0
    pattern_reuse: bool = False


class WeightBuffer(Strict):
    """On-chip weight buffer filled from DRAM in regions of `cols` outputs x `steps` lookup steps."""

    cols: Count
    steps: Count
    word_bits: Count                # DRAM word loaded per cycle
    cols_per_word: Count            # output columns (each `tables` indices of one step) per word
    port_bits: Optional[Count] = None         # DRAM port bits per cycle (default: a word per cycle)


class LutEngineParams(Strict):
    source: str
    assumptions: Optional[str] = None         # every input the source does not give
    clock: Frequency
    unit: UnitShape
    units: Count = 1
    table_of: Literal["activations", "weights"] = "activations"   # what the tables are built from
    max_weight_bits: Count = 4                # wider integer weights are rejected
    ternary_planes: Count = 2                 # lookups per group for ternary weights
    ternary_index_bits: Optional[Count] = None         # stored bits per group (default g * planes)
    memory_bandwidth: Optional[Bandwidth] = None   # DRAM -> engine peak, bytes/s
    dram: Optional[str] = None                # or a DRAM preset, measured (npu/dma.py)
    channels: Count = 1                       # channels of that preset
    memory_efficiency: float = Field(1.0, gt=0, le=1)   # fraction of the peak the chip sustains
    per_core: Optional[CoreMemory] = None     # units are CPU cores: each one's misses in flight
    weight_buffer: Optional[WeightBuffer] = None
    overlap_weight_load: bool = False
    passes: dict[str, Count] = {}             # op name -> equal column slices run one after another
    power: Optional[Power] = None             # board power; energy = power x busy time
    memory_of: Optional[str] = None           # component whose memory holds its weights (the GPU beside it)

    @model_validator(mode="after")
    def _one_memory(self):
        if (self.memory_bandwidth is None) == (self.dram is None):
            raise ValueError("give either memory_bandwidth or a dram preset (with channels)")
        if self.dram is not None:
            DmaParams(dram=self.dram, channels=self.channels)   # checks the preset name
        return self


@register
class LutEngine(SerialComponent):
    type_name = "lut_engine"
    Params = LutEngineParams
    resource_units = {"lookup": "FLOP/s", "memory": "B/s"}
    stats = {"busy_s": "time running ops (s)", "lookup_cycles": "LUT unit cycles (per unit)",
             "dram_bytes": "weight and activation bytes streamed from DRAM (B)"}

    def memory_owner(self):
        return self.params.memory_of

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        self.unit = LutUnit(**params.unit.model_dump())
        self.peak_bandwidth = params.memory_bandwidth or dma_figures(DmaParams(dram=params.dram,
                                                                               channels=params.channels))[0]

    def planes(self, op) -> tuple[int, int]:
        """(bit planes, stored bits per group per plane) of the op's weights."""
        bits = op.weight_bytes * 8 / (op.n * op.k * op.count)
        if math.isclose(bits, precision.BITS["ternary"]):
            planes = self.params.ternary_planes
            return planes, (self.params.ternary_index_bits or self.unit.g * planes) // planes
        if not (math.isclose(bits, round(bits)) and 1 <= round(bits) <= self.params.max_weight_bits):
            raise ValueError(f"{self.name}: op '{op.name}' has {bits:g}-bit weights; the LUT engine runs "
                             f"1..{self.params.max_weight_bits}-bit integer or ternary weights")
        return round(bits), self.unit.g

    def grid_cycles(self, m: int, n: int, k: int, planes: int) -> int:
        """Cycles of one (m x k) @ (k x n) on the best um x un grid of units (all tried at once)."""
        units = self.params.units
        row_split = np.array([d for d in range(1, units + 1) if units % d == 0])
        per_unit = self.unit.cycles(-(-m // row_split), -(-n // (units // row_split)), k, planes)
        return int(per_unit.min())

    def weight_load(self, op, planes: int, group_bits: int) -> tuple[float, int]:
        """(DRAM weight bytes, load cycles) of the op's weights in the engine's layout."""
        steps = int(self.unit.steps(op.k))
        buffer = self.params.weight_buffer
        if buffer is None:
            return op.count * op.n * steps * self.unit.live_tables * group_bits * planes / 8, 0
        regions = -(-op.n // buffer.cols) * -(-steps // buffer.steps)
        words = op.count * planes * regions * buffer.steps * -(-buffer.cols // buffer.cols_per_word)
        cycles_per_word = -(-buffer.word_bits // (buffer.port_bits or buffer.word_bits))
        return words * buffer.word_bits / 8, words * cycles_per_word

    def split(self, op):
        """(one pass, passes): the op as `passes[op.name]` equal column slices run one after another."""
        passes = self.params.passes.get(op.name, 1)
        if op.n % passes:
            raise ValueError(f"{self.name}: op '{op.name}' has n={op.n}, not {passes} equal passes")
        if passes == 1:
            return op, 1
        return replace(op, n=op.n // passes, flops=op.flops / passes, weight_bytes=op.weight_bytes / passes,
                       act_out_bytes=op.act_out_bytes / passes), passes

    def activation_bits(self, op) -> int:
        """Bit planes of the op's activations (table_of: weights)."""
        bits = op.act_in_bytes * 8 / (op.m * op.k * op.count)
        if not math.isclose(bits, round(bits)):
            raise ValueError(f"{self.name}: op '{op.name}' has {bits:g}-bit activations; "
                             f"tables of weights are indexed by whole activation bits")
        return round(bits)

    def lut_time(self, op) -> tuple[float, float, float, int]:
        """(compute s, load s, DRAM bytes, cycles) of a matmul on the LUT units, all passes."""
        op, passes = self.split(op)
        if self.params.table_of == "weights":
            cycles = op.count * self.grid_cycles(op.n, op.m, op.k, self.activation_bits(op))
            weight_bytes, load_cycles = op.weight_bytes, 0
        else:
            planes, group_bits = self.planes(op)
            cycles = op.count * self.grid_cycles(op.m, op.n, op.k, planes)
            weight_bytes, load_cycles = self.weight_load(op, planes, group_bits)
        nbytes = passes * (weight_bytes + op.act_in_bytes + op.act_out_bytes)
        load_s = max(passes * load_cycles / self.params.clock, nbytes / self.sustained_bandwidth)
        return passes * cycles / self.params.clock, load_s, nbytes, passes * cycles

    @property
    def sustained_bandwidth(self) -> float:
        """Bytes/s the units stream together (cpu/memory.py)."""
        return sustained_bandwidth(self.peak_bandwidth, self.params.memory_efficiency, self.params.per_core,
                                   self.params.units)

    def time(self, op):
        if op.kind != "matmul":
            raise ValueError(f"{self.name} runs matmuls only, got '{op.kind}' op '{op.name}'; "
                             f"map other classes to another component")
        compute_s, load_s, nbytes, cycles = self.lut_time(op)
        duration_s = max(compute_s, load_s) if self.params.overlap_weight_load else compute_s + load_s
        return OpTiming(duration_s, "lookup" if compute_s >= load_s else "memory",
                        used={"lookup": op.flops, "memory": nbytes}, floor_s={"lookup": compute_s},
                        duration_ps=ps(duration_s), counts={"lookup_cycles": cycles})

    def capacity(self, resource):
        """The lookup rate is the op's FLOPs over its lookup time (no single peak; 1 before any op);
        memory is the bandwidth the engine sustains, as its op times use (as the `cpu` component's)."""
        return 1.0 if resource == "lookup" else self.sustained_bandwidth

    def statistics(self):
        return {"busy_s": self._busy_ps * 1e-12, "lookup_cycles": self._counts["lookup_cycles"],
                "dram_bytes": self._used["memory"]}
