"""A roofline device: each operator takes max(FLOPs / peak, bytes / bandwidth) + its launch overheads.

It stands for a whole processor (a GPU, a CPU socket) when only its published peaks are
known. Operators run one at a time, in the order they become ready, like kernels on one
stream. An eager framework issues several kernels for one of our operators (HF GPT-2's
GELU is eight element-wise kernels), so each operator pays `launch_overhead` once per
kernel its kind expands to (`kernels_per_op`, default 1). Cycle-level NPU/GPU models built
from tiles replace it where detail matters.

Optional mechanisms bring a GPU from its datasheet to what its kernels reach; a machine
without them keeps the plain roofline:
- `memory.efficiency`: the share of the peak bandwidth a streaming kernel measures (a
  microbenchmark figure); every operator's bytes move at it. The roofline floor still uses the
  datasheet peak. A share, not a rate, so a machine that `extends:` this one with faster memory
  gets faster kernels too.
- `gemm:` matmuls as cuBLAS-style kernels: tiles in waves over SMs, split-K, operand loads through
  the L2, a measured streaming rate (``hwsim.components.analytic.gemm_kernels``).
- `rows:` vector operators as their thread-block kernels: one block per row (or per chunk, or a
  strided grid), loop iterations of round trips and instructions, waves bound by the loads in
  flight (``hwsim.components.analytic.row_kernels``).
- `kernel_startup`: GPU-side time each kernel takes beyond its work (grid launch, block dispatch,
  drain), which a profiler's kernel duration holds and CUDA graphs do not remove; `launch_overhead`
  is the host's dispatch per kernel (eager only). Both are paid per kernel (`kernels_per_op`), so
  a fused kernel pays them once.
- `launch`: how the host's dispatch meets the GPU's work. `serial` (default): every kernel waits
  for its own dispatch, so the two add (a framework that synchronises host and GPU each layer).
  `async`: CUDA kernel launches are asynchronous, so the host issues kernels into the stream ahead
  of the GPU (Vellaisamy et al., arXiv 2504.11750, TKLQT: a kernel's launch-to-start time is its
  launch plus its wait in the queue). The host is a stream of its own that issues one kernel every
  `launch_overhead` from the step's start, in the order operators reach the device; an operator's
  k kernels each take its time / k, and kernel j starts at max(the previous kernel's end, its
  launch's end, the operator's inputs ready). The GPU idles only when the host falls behind: a
  chain of n equal kernels of d takes L + d + (n - 1) max(L, d), CPU-bound while L > d. One host
  stream per device and per simulation: steps simulated back to back in one trace share it, with
  no synchronisation between them.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, field_validator

from hwsim.components.analytic.gemm_kernels import Gemm
from hwsim.components.analytic.names import known_formats, known_kinds
from hwsim.components.analytic.row_kernels import Rows
from hwsim.components.base import ALL_BYTES, OpTiming, Resource, SerialComponent, register
from hwsim.components.base import Memory as Resident
from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, ComputeRate, Latency, Power
from hwsim.workload import precision


class Memory(Strict):
    capacity: ByteSize          # bytes
    bandwidth: Bandwidth        # bytes/s, peak
    efficiency: float = Field(1.0, gt=0, le=1)   # share of `bandwidth` a streaming kernel measures

    @property
    def streaming(self) -> float:
        """Bytes/s operators move their bytes at: bandwidth x efficiency."""
        return self.bandwidth * self.efficiency


class AnalyticDeviceParams(Strict):
    source: str                          # where the peaks come from (datasheet, paper table)
    peak: dict[str, ComputeRate]         # number format -> peak operations/s (dense, no sparsity)
    memory: Memory
    launch_overhead: Latency = "0s"     # fixed time added per kernel launch (framework dispatch + launch)
    kernel_startup: Latency = "0s"      # GPU-side time per kernel beyond its work (launch, dispatch, drain)
    launch: Literal["serial", "async"] = "serial"   # launch_overhead added to each kernel, or a host stream ahead of it
    kernels_per_op: dict[str, Count] = {}         # operator kind -> kernels one operator launches (absent: 1)
    gemm: Optional[Gemm] = None          # matmuls as tiles in waves over SMs; None: FLOPs / peak
    rows: Optional[Rows] = None          # vector kernels as blocks per row; None: bytes / bandwidth
    power: Optional[Power] = None        # board power at load (TDP); energy = power x busy time
    computes_in: Optional[str] = None    # format it computes every operator in, whatever the run's (None: the run's)

    @field_validator("peak")
    @classmethod
    def _peaks(cls, peak):
        if not peak:
            raise ValueError("needs at least one number format, e.g. {bf16: 312TFLOPS}")
        return known_formats(peak)

    _kinds = field_validator("kernels_per_op")(classmethod(lambda cls, kernels: known_kinds(kernels)))

    @field_validator("computes_in")
    @classmethod
    def _computes_in(cls, fmt):
        return fmt if fmt is None else precision.check(fmt)


@register
class AnalyticDevice(SerialComponent):
    """Roofline device: max(FLOPs / peak, bytes / bandwidth) + per-kernel costs, launches serial or async."""

    type_name = "analytic_device"
    Params = AnalyticDeviceParams
    pure_timing = True
    resource_units = {"compute": "FLOP/s", "memory": "B/s"}
    stats = {"busy_s": "time spent running operators (s)", "compute_used": "operations executed (FLOP)",
             "memory_used": "bytes moved to/from memory (B)",
             "host_launch_s": "the host's kernel launches back to back (s; launch: async only)"}

    def __init__(self, name, params, sim):
        super().__init__(name, params, sim)
        self.pure_timing = self.params.launch == "serial"   # async: an operator may wait for the host
        self._host_ps = 0                                    # when the host has issued every kernel so far

    def _kernels(self, op) -> int:
        return self.params.kernels_per_op.get(op.kind, 1)

    def schedule(self, op, duration_ps: int) -> tuple[int, int]:
        """Serial launch: the base rule. Async: each of the operator's kernels starts once the
        previous one ended and the host has issued it (module docstring)."""
        if self.params.launch == "serial":
            return super().schedule(op, duration_ps)
        kernels, launch_ps = self._kernels(op), round(self.params.launch_overhead * 1e12)
        end = start = None
        for j in range(1, kernels + 1):
            self._host_ps += launch_ps
            begin = max(self.sim.now, self._free_at_ps if end is None else end, self._host_ps)
            start = begin if start is None else start
            end = begin + duration_ps * j // kernels - duration_ps * (j - 1) // kernels
        return start, end

    def statistics(self):
        host = {"host_launch_s": self._host_ps * 1e-12} if self.params.launch == "async" else {}
        return {**super().statistics(), **host}

    def resources(self):
        """The roofline's resources; with async launch also the host, issuing one kernel per
        `launch_overhead`: no step ends before its last kernel is launched."""
        own = super().resources()
        if self.params.launch == "serial" or not self.params.launch_overhead:
            return own
        per_s = 1 / self.params.launch_overhead
        return own + [Resource(f"{self.name}.host_launch", "kernels/s", per_s, self._host_ps * 1e-12 * per_s,
                               self._host_ps * 1e-12)]

    def _format(self, op) -> str:
        """The format ``op`` computes in here: ``computes_in`` (a CPU that runs a quantised model's
        attention and norms in float, as mllm-NPU does) or the operator's own."""
        return self.params.computes_in or op.compute_dtype

    def _peak(self, fmt: str) -> float:
        if fmt not in self.params.peak:
            raise ValueError(f"component '{self.name}' has no peak for {fmt} operators; "
                             f"add peak.{fmt} (has: {', '.join(self.params.peak)})")
        return self.params.peak[fmt]

    def _gemm_applies(self, op) -> bool:
        gemm = self.params.gemm
        return (gemm is not None and op.kind == "matmul" and op.m > 0 and op.n > 0 and op.k > 0
                and self._format(op) in gemm.efficiency)

    def _rows_s(self, op) -> float:
        rows = self.params.rows
        kernel = rows.kernels.get(op.kind) if rows is not None else None
        applies = kernel is not None and (op.m > 0 or kernel.chunk) and op.act_out_bytes > 0
        return rows.seconds(op, self.params.memory.streaming) if applies else 0.0

    def _overhead_s(self, op) -> float:
        """Per-kernel time beyond the work: GPU-side startup, plus the host's launch when serial."""
        serial_launch = self.params.launch_overhead if self.params.launch == "serial" else 0.0
        return self._kernels(op) * (serial_launch + self.params.kernel_startup)

    def time(self, op):
        memory = self.params.memory
        fmt = self._format(op)
        compute_s = op.flops / self._peak(fmt) if op.flops else 0.0
        memory_s = op.total_bytes / memory.bandwidth
        gemm = self.params.gemm if self._gemm_applies(op) else None
        bandwidth = memory.bandwidth * gemm.streaming if gemm and gemm.streaming else memory.streaming
        streamed_s = op.total_bytes / bandwidth
        if gemm:
            busy_s = gemm.seconds(op, fmt, self._peak(fmt), streamed_s, bandwidth, self.params.kernel_startup)
            bound = "memory" if busy_s <= streamed_s else "compute"
        else:
            busy_s = max(compute_s, streamed_s, self._rows_s(op))
            bound = "compute" if compute_s > streamed_s else "memory"
        return OpTiming(busy_s + self._overhead_s(op), bound,
                        used={"compute": op.flops, "memory": op.total_bytes},
                        floor_s={"compute": compute_s, "memory": memory_s})

    def capacity(self, resource):
        return max(self.params.peak.values()) if resource == "compute" else self.params.memory.bandwidth

    def memories(self):
        """One memory (`memory.capacity`) for every byte of the operators it runs."""
        return [Resident(f"{self.name}.memory", self.params.memory.capacity, ALL_BYTES)]
