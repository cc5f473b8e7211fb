"""A roofline device: each operator takes max(FLOPs / peak, bytes / bandwidth) + its launch overheads.

It stands for a whole processor (a GPU, a CPU socket) when only its published peaks are
known. Operators run one at a time, in the order they become ready, like kernels on one
stream. An eager framework issues several kernels for one of our operators (HF GPT-2's
GELU is eight element-wise kernels), so each operator pays `launch_overhead` once per
kernel its kind expands to (`kernels_per_op`, default 1). Cycle-level NPU/GPU models built
from tiles replace it where detail matters.

Two optional mechanisms bring a GPU from its datasheet to what its kernels reach; a machine
without them keeps the plain roofline:
- `memory.sustained`: the bandwidth a streaming kernel measures (a microbenchmark figure); every
  operator's bytes move at it. The roofline floor still uses the datasheet peak.
- `gemm:` matmuls as cuBLAS-style kernels: the (m x n) output is cut into thread-block tiles
  (one of `tiles`, the fastest for the shape, as cuBLAS's heuristics pick), tiles run in waves of
  `sms` at a time, each at `achievable` / sms (the best measured matmul rate, not the peak), so a
  shape pays for its padded tiles (tile quantisation) and its last partial wave (wave
  quantisation). With fewer tiles than SMs, the k loop may be split over 2, 4, ... SMs
  (split-K); the fp32 partial sums are written and read back once.
"""
from __future__ import annotations

import math
from typing import Optional

from pydantic import PositiveInt, field_validator

from hwsim.components.base import ALL_BYTES, OpTiming, SerialComponent, register
from hwsim.components.base import Memory as Resident
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, ComputeRate, Duration, Power
from hwsim.workload import precision
from hwsim.workload.ops import KINDS

FP32_BYTES = 4      # split-K partial sums are fp32


def _known_formats(rates: dict) -> dict:
    for name in rates:
        precision.check(name)
    return rates


class Memory(Strict):
    capacity: ByteSize          # bytes
    bandwidth: Bandwidth        # bytes/s, peak
    sustained: Optional[Bandwidth] = None   # bytes/s a streaming kernel measures; None: the peak


class Gemm(Strict):
    """Matmul kernels as tiles over SMs in waves (see the module docstring)."""

    source: str                                       # where sms, tiles and achievable come from
    sms: PositiveInt                                  # streaming multiprocessors (one tile each at a time)
    tiles: list[tuple[PositiveInt, PositiveInt]]      # thread-block output tiles (rows x columns) to pick from
    achievable: dict[str, ComputeRate]                # format -> best measured matmul rate of the whole GPU
    split_k: bool = True                              # split the k loop when tiles < SMs

    _formats = field_validator("achievable")(classmethod(lambda cls, rates: _known_formats(rates)))

    def seconds(self, op, memory_s: float, bandwidth: float) -> float:
        """Fastest tile (and split-K) for `op`: max(waves x one tile's time, memory time)."""
        per_sm = self.achievable[op.compute_dtype] / self.sms
        best = math.inf
        for rows, cols in self.tiles:
            tiles = math.ceil(op.m / rows) * math.ceil(op.n / cols) * op.count
            split = 1
            while True:
                waves = math.ceil(tiles * split / self.sms)
                compute_s = waves * 2 * rows * cols * math.ceil(op.k / split) / per_sm
                partials_s = (split > 1) * 2 * FP32_BYTES * op.m * op.n * op.count * split / bandwidth
                best = min(best, max(compute_s, memory_s + partials_s))
                split *= 2
                if not self.split_k or tiles * split > self.sms or split > op.k:
                    break
        return best


class AnalyticDeviceParams(Strict):
    source: str                          # where the peaks come from (datasheet, paper table)
    peak: dict[str, ComputeRate]         # number format -> peak operations/s (dense, no sparsity)
    memory: Memory
    launch_overhead: Duration = "0s"     # fixed time added per kernel launch (framework dispatch + launch)
    kernels_per_op: dict[str, PositiveInt] = {}   # operator kind -> kernels one operator launches (absent: 1)
    gemm: Optional[Gemm] = None          # matmuls as tiles in waves over SMs; None: FLOPs / peak
    power: Optional[Power] = None        # board power at load (TDP); energy = power x busy time

    @field_validator("peak")
    @classmethod
    def _peaks(cls, peak):
        if not peak:
            raise ValueError("needs at least one number format, e.g. {bf16: 312TFLOPS}")
        return _known_formats(peak)

    @field_validator("kernels_per_op")
    @classmethod
    def _known_kinds(cls, kernels):
        unknown = sorted(set(kernels) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown operator kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
        return kernels


@register
class AnalyticDevice(SerialComponent):
    """Roofline device: max(FLOPs / peak, bytes / bandwidth) + launch overhead x kernels per operator."""

    type_name = "analytic_device"
    Params = AnalyticDeviceParams
    resource_units = {"compute": "FLOP/s", "memory": "B/s"}
    stats = {"busy_s": "time spent running operators (s)", "compute_used": "operations executed (FLOP)",
             "memory_used": "bytes moved to/from memory (B)"}

    def _peak(self, fmt: str) -> float:
        if fmt not in self.params.peak:
            raise ValueError(f"component '{self.name}' has no peak for {fmt} operators; "
                             f"add peak.{fmt} (has: {', '.join(self.params.peak)})")
        return self.params.peak[fmt]

    def _gemm_applies(self, op) -> bool:
        gemm = self.params.gemm
        return (gemm is not None and op.kind == "matmul" and op.m > 0 and op.n > 0 and op.k > 0
                and op.compute_dtype in gemm.achievable)

    def time(self, op):
        memory = self.params.memory
        compute_s = op.flops / self._peak(op.compute_dtype) if op.flops else 0.0
        memory_s = op.total_bytes / memory.bandwidth
        streamed_s = op.total_bytes / (memory.sustained or memory.bandwidth)
        if self._gemm_applies(op):
            busy_s = self.params.gemm.seconds(op, streamed_s, memory.sustained or memory.bandwidth)
            bound = "memory" if busy_s <= streamed_s else "compute"
        else:
            busy_s = max(compute_s, streamed_s)
            bound = "compute" if compute_s > streamed_s else "memory"
        launches = self.params.kernels_per_op.get(op.kind, 1)
        return OpTiming(busy_s + launches * self.params.launch_overhead, bound,
                        used={"compute": op.flops, "memory": op.total_bytes},
                        floor_s={"compute": compute_s, "memory": memory_s})

    def capacity(self, resource):
        return max(self.params.peak.values()) if resource == "compute" else self.params.memory.bandwidth

    def memories(self):
        """One memory (`memory.capacity`) for every byte of the operators it runs."""
        return [Resident(f"{self.name}.memory", self.params.memory.capacity, ALL_BYTES)]
