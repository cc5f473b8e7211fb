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
- `gemm:` matmuls as cuBLAS-style kernels: the (m x n) output is cut into thread-block tiles
  (one of `tiles`, the fastest for the shape, as cuBLAS's heuristics pick), tiles run in waves of
  `sms` at a time, each at peak x `efficiency` / sms (the best measured matmul rate as a share of
  the format's peak), so a
  shape pays for its padded tiles (tile quantisation) and its last partial wave (wave
  quantisation). With fewer tiles than SMs, the k loop may be split over 2, 4, ... SMs
  (split-K); the fp32 partial sums are written and read back once, by a second kernel (cuBLASLt's
  out-of-place split-K reduction schemes, cublasLtReductionScheme_t; `splitKreduce_kernel` after
  the GEMM in Ampere profiles) that pays `kernel_startup`.
  With `gemm.l2_bandwidth` (a measured L2 read bandwidth), the tiles' operand loads bound the tiles'
  time too: each tile loads its rows of A and its columns of B over the whole k, so the activations
  (A) are read once per tile column and the weights (B) once per tile row, act_in_bytes x
  ceil(n / cols) + weight_bytes x ceil(m / rows), all through the L2 at that bandwidth (CUTLASS,
  media/docs/efficient_gemm.md @d572cc1, "Threadblock-level GEMM": each threadblock iterates over k
  loading tiles of A and B from global memory; a larger threadblock tile means fewer fetches). Small
  tiles reuse less, so they can be slower than their FLOPs, and a shape that needs them (few rows,
  to fill the SMs) pays for it.
  With `gemm.streaming` (a share of `memory.bandwidth`, from a measured matmul library's rate), a
  matmul's bytes move at that share instead of `memory.efficiency`: a GEMM kernel streaming its
  weights through tiles need not reach what a streaming read microbenchmark measures.
- `rows:` vector operators as one-thread-block-per-row kernels (vLLM / Sarathi-Serve's rms_norm,
  silu_and_mul and rotary_embedding kernels): a block of min(row work, `block`) threads walks its
  row in loop iterations, each a dependent DRAM round trip of `latency`; as many blocks as fit in
  an SM's threads run at once, the rest in waves. Each iteration also issues the kernel's
  `instructions` (per pass, from its compiled loop) for every warp resident on the busiest SM,
  `schedulers` warp instructions per `clock` cycle: a row's warps wait on the same loads, so their
  instructions follow the round trip rather than hide under it. The last `cached_passes` passes
  (rms_norm's scaling loop, re-reading what its first loop loaded) wait on an L2 hit (`l2_latency`)
  instead of DRAM. A `two_loops` kernel (rope) sizes its block by the row's first op.n elements (the
  query heads) and walks them, then the rest (the key heads), each loop in its own iterations. Few
  rows leave the GPU waiting on that chain, not on bandwidth: the operator takes max(waves x one
  row's iterations, bytes / bandwidth).
  With `rows.inflight` (a measured curve: bytes of loads in flight per SM -> sustained bandwidth),
  rows in more than one wave are bound by memory-level parallelism instead (Little's law). The
  curve is measured with threads that load once and exit, so each of its loads also pays a block's
  launch and retirement (its lowest point is 650 ns per load, against a 405 ns pointer chase); rows
  that fit in one wave never retire a block before the end, so their loop's round trips alone bind
  them (a grid-stride kernel keeps the curve: index_select's table rows). In waves, the resident threads
  each keep `loads` element loads in flight, and the bytes move at the curve's bandwidth for them;
  a row that is not a whole number of blocks wide leaves threads idle in its last iteration, so a
  block keeps its row's elements / iterations threads busy on average, not all of them.
  A `chunk` kernel (PyTorch's vectorized elementwise kernels: the residual add) cuts the flat tensor
  into blocks of `chunk` elements instead of one block per row; those blocks then run as rows do,
  each thread one iteration: one round trip in one wave, the curve in waves.
  A `grid_stride` kernel (PyTorch's index_select) runs min(elements / block, sms x
  `blocks_per_sm`) blocks over all elements rather than one block per row; up to `serial_rows`
  rows (index_select's small-index kernel) such a grid walks one row after another. Extra round
  trips (a position, an index) are loads before the loop, at `latency` too.
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

import math
from typing import Literal, Optional

import numpy as np
from pydantic import Field, field_validator, model_validator

from hwsim.components.base import ALL_BYTES, OpTiming, Resource, SerialComponent, register
from hwsim.components.base import Memory as Resident
from hwsim.config.counts import Count, CountOrZero
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, ComputeRate, Duration, Frequency, Latency, Power
from hwsim.workload import precision
from hwsim.workload.ops import KINDS

FP32_BYTES = 4      # split-K partial sums are fp32
WARP = 32           # threads per warp


def _known_formats(rates: dict) -> dict:
    for name in rates:
        precision.check(name)
    return rates


def _known_kinds(by_kind: dict) -> dict:
    unknown = sorted(set(by_kind) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown operator kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
    return by_kind


class Memory(Strict):
    capacity: ByteSize          # bytes
    bandwidth: Bandwidth        # bytes/s, peak
    efficiency: float = Field(1.0, gt=0, le=1)   # share of `bandwidth` a streaming kernel measures

    @property
    def streaming(self) -> float:
        """Bytes/s operators move their bytes at: bandwidth x efficiency."""
        return self.bandwidth * self.efficiency


class Gemm(Strict):
    """Matmul kernels as tiles over SMs in waves (see the module docstring)."""

    source: str                                       # where sms, tiles and efficiency come from
    sms: Count                                        # streaming multiprocessors (one tile each at a time)
    tiles: list[tuple[Count, Count]]                  # thread-block output tiles (rows x columns) to pick from
    efficiency: dict[str, float]                      # format -> best measured matmul rate / the format's peak
    split_k: bool = True                              # split the k loop when tiles < SMs
    l2_bandwidth: Optional[Bandwidth] = None          # bytes/s tiles load operands through the L2 at; None: no bound
    streaming: Optional[float] = Field(None, gt=0, le=1)   # share of memory.bandwidth matmuls stream at; None: memory.efficiency

    @field_validator("efficiency")
    @classmethod
    def _shares(cls, shares):
        for fmt, share in _known_formats(shares).items():
            if not 0 < share <= 1:
                raise ValueError(f"{fmt}: a share of the peak in (0, 1], got {share}")
        return shares

    def seconds(self, op, fmt: str, peak: float, memory_s: float, bandwidth: float, reduce_s: float = 0.0) -> float:
        """Fastest tile (and split-K) for `op` computing in `fmt`: max(waves x one tile's time, the
        tiles' operand loads through the L2, memory time), plus `reduce_s` for the kernel that sums
        split-K's partials."""
        per_sm = peak * self.efficiency[fmt] / self.sms
        best = math.inf
        for rows, cols in self.tiles:
            tiles = math.ceil(op.m / rows) * math.ceil(op.n / cols) * op.count
            operands_s = self._operands_s(op, rows, cols)
            split = 1
            while True:
                waves = math.ceil(tiles * split / self.sms)
                compute_s = max(waves * 2 * rows * cols * math.ceil(op.k / split) / per_sm, operands_s)
                partials_s = (split > 1) * 2 * FP32_BYTES * op.m * op.n * op.count * split / bandwidth
                best = min(best, max(compute_s, memory_s + partials_s) + (split > 1) * reduce_s)
                split *= 2
                if not self.split_k or tiles * split > self.sms or split > op.k:
                    break
        return best

    def _operands_s(self, op, rows: int, cols: int) -> float:
        """Time the L2 takes to serve every tile its rows of A and columns of B (k deep; split-K
        splits the same loads): the activations once per tile column, the weights once per tile row,
        each in its own format. 0 without `l2_bandwidth`."""
        if not self.l2_bandwidth:
            return 0.0
        loaded = op.act_in_bytes * math.ceil(op.n / cols) + op.weight_bytes * math.ceil(op.m / rows)
        return loaded / self.l2_bandwidth


class RowKernel(Strict):
    """One operator kind's kernel: a thread block per row; each loop iteration one round trip, then
    the instructions of its resident warps."""

    block: Count                           # threads per block at most (the kernel's min(work, block))
    passes: Count = 1                      # loops over the row (rms_norm: sum of squares, then scale)
    cached_passes: CountOrZero = 0         # the last passes, whose loads hit the L2 (rms_norm's scaling loop)
    instructions: list[CountOrZero] = []   # per pass, instructions one thread issues per iteration ([]: none)
    elements_per_thread: Count = 1         # row elements one thread handles per iteration (rope: a pair)
    extra_round_trips: CountOrZero = 0     # dependent loads before the loops (rope: the position)
    loads: Count = 1                       # element loads one thread keeps in flight (silu_and_mul: x and y)
    blocks_per_sm: Optional[Count] = None  # the kernel's own cap on blocks per SM (its grid size)
    grid_stride: bool = False              # blocks stride over all elements, not one block per row
    chunk: Optional[Count] = None          # elements per block, cut from the flat tensor instead of by rows
    serial_rows: CountOrZero = 0           # up to this many rows, one strided grid walks them in turn
    two_loops: bool = False                # a row's first op.n elements, then the rest (rope: query, then key heads)

    @model_validator(mode="after")
    def _per_pass(self):
        if self.cached_passes >= self.passes:
            raise ValueError(f"cached_passes ({self.cached_passes}) must leave the first of {self.passes} "
                             "pass(es) to DRAM")
        if self.instructions and len(self.instructions) != self.passes:
            raise ValueError(f"instructions: one count per pass, {self.passes}, got {len(self.instructions)}")
        return self

    def loops(self, op, work: int) -> list[int]:
        """A row's `work` (threads' worth) as the kernel loops over it, in turn, each with the same block:
        with `two_loops`, the first op.n elements and the rest (Sarathi-Serve's rotary_embedding_kernel
        sizes its block by the query heads, walks them, then the key heads); else one loop. An op
        without op.n, or whose op.n covers the row, is one loop."""
        first = math.ceil(op.n / self.elements_per_thread) if self.two_loops else 0
        return [first, work - first] if 0 < first < work else [work]


class Rows(Strict):
    """Vector operators as one-block-per-row kernels (see the module docstring)."""

    source: str                            # where the latency, SM figures and kernel shapes come from
    sms: Count                             # streaming multiprocessors
    threads_per_sm: Count                  # resident threads per SM at most
    latency: Duration                      # one dependent DRAM round trip (s)
    kernels: dict[str, RowKernel]          # operator kind -> its kernel
    inflight: list[tuple[ByteSize, Bandwidth]] = []   # load bytes in flight per SM -> bandwidth (measured)
    l2_latency: Optional[Duration] = None  # one dependent L2 hit (s): the round trip of a cached pass
    clock: Optional[Frequency] = None      # SM clock (Hz) the kernels' instructions issue at
    schedulers: Count = 4                  # warp instructions an SM issues per cycle (one per scheduler)

    _kinds = field_validator("kernels")(classmethod(lambda cls, kernels: _known_kinds(kernels)))

    @field_validator("inflight")
    @classmethod
    def _rising(cls, points):
        if any(b[0] <= a[0] for a, b in zip(points, points[1:])):
            raise ValueError("bytes in flight must rise from point to point")
        return points

    @model_validator(mode="after")
    def _needs(self):
        for kind, kernel in self.kernels.items():
            if kernel.cached_passes and self.l2_latency is None:
                raise ValueError(f"kernels.{kind}.cached_passes needs l2_latency")
            if kernel.instructions and self.clock is None:
                raise ValueError(f"kernels.{kind}.instructions needs clock")
        return self

    def iteration_s(self, kernel: RowKernel, warps: int) -> float:
        """One loop iteration of every pass: each pass's round trip (an L2 hit for a cached pass, else
        DRAM), then the instructions of the `warps` resident on the SM, `schedulers` per cycle: the
        warps of a row's blocks wait on the same loads, so their instructions follow them."""
        issue_s = warps / (self.schedulers * self.clock) if self.clock else 0.0
        counts = kernel.instructions or [0] * kernel.passes
        return sum((self.l2_latency if p >= kernel.passes - kernel.cached_passes else self.latency) + issue_s * n
                   for p, n in enumerate(counts))

    def bandwidth(self, inflight_per_sm: float, streaming: float) -> float:
        """Bytes/s the curve gives for `inflight_per_sm` bytes of loads in flight per SM: linear
        between its points, flat below the first (there the latency chain is the bound); past the last,
        loads in flight no longer bind and bytes move at `streaming`, the memory's streaming rate (so a
        machine that extends this one with faster memory streams faster)."""
        if inflight_per_sm > self.inflight[-1][0]:
            return streaming
        return float(np.interp(inflight_per_sm, [p[0] for p in self.inflight], [p[1] for p in self.inflight]))

    def seconds(self, op, streaming: float) -> float:
        """max(waves of resident blocks x the round trips of one block x latency, bytes at the
        bandwidth the resident threads' loads in flight sustain); rows in one wave of a per-row kernel
        pay only the round trips."""
        kernel = self.kernels[op.kind]
        elements = op.act_out_bytes * 8 / precision.BITS[op.compute_dtype]
        all_rows = math.ceil(elements / kernel.chunk) if kernel.chunk else op.m * op.count
        serial = all_rows <= kernel.serial_rows           # one grid walks the rows one after another
        strided = kernel.grid_stride or serial
        rows = 1 if strided else all_rows
        work = math.ceil(elements / (all_rows if serial else rows) / kernel.elements_per_thread)
        loops = kernel.loops(op, work)
        block = min(loops[0], kernel.block)                                  # threads per block
        per_sm = max(self.threads_per_sm // block, 1)
        per_sm = min(per_sm, kernel.blocks_per_sm or per_sm)
        blocks = min(math.ceil(work / kernel.block), self.sms * per_sm) if strided else 1
        threads = min(work, block * blocks)                                   # threads on one row
        steps = math.ceil(rows / (self.sms * per_sm)) * (all_rows if serial else 1)
        iterations = sum(math.ceil(loop / threads) for loop in loops)
        blocks_per_sm = math.ceil((blocks if strided else min(rows, self.sms * per_sm)) / self.sms)
        loop_s = iterations * self.iteration_s(kernel, blocks_per_sm * math.ceil(block / WARP))
        chain_s = steps * (kernel.extra_round_trips * self.latency + loop_s)
        if not self.inflight or (steps == 1 and not strided):    # one wave: no block retires and relaunches
            return chain_s
        resident = min(rows, self.sms * per_sm) * work / iterations     # a short last iteration idles threads
        inflight = resident * kernel.loads * precision.BITS[op.compute_dtype] / 8 / self.sms
        return max(chain_s, op.total_bytes / self.bandwidth(inflight, streaming))


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
        return _known_formats(peak)

    _kinds = field_validator("kernels_per_op")(classmethod(lambda cls, kernels: _known_kinds(kernels)))

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
        bandwidth = memory.bandwidth * ((gemm and gemm.streaming) or memory.efficiency)
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
