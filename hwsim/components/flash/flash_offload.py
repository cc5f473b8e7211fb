"""FFN weights streamed from an SSD into DRAM, as in "LLM in a flash" (arXiv 2312.11514).

The paper's Table 2 builds its method up column by column; `policy` names the same columns:

- `hybrid` (selective persistence): attention, embedding and LM-head weights stay in DRAM; without
  a predictor a further `ffn_resident` share of each FFN matrix stays too (the "half the model in
  DRAM" row). `hybrid: false` is the naive row: every weight is read from flash every token.
- Weights read whole (no predictor) are one linear read per matrix, at the SSD's sequential
  throughput (the read curve's largest chunk: the paper measures a 1 GiB linear read).
- `predictor`: only the FFN neurons it marks active (`active_fraction`) are read, one neuron's
  vector (d_model elements) per read, at the SSD's throughput for that chunk size (`ReadCurve`).
- `window` (k tokens): neurons used by the last k tokens stay in DRAM, so a token loads only the
  active neurons none of those tokens used. Activations are correlated in time; each neuron is a
  two-state Markov chain whose stationary active share is the predictor's and whose persistence
  follows from the measured share of FFN neurons the window holds (`share`), see `window_load_share`.
- `bundling`: a neuron's up column and down row are stored together, so one read of twice the
  chunk serves both matmuls.
- `ffn_resident` with a predictor: PowerInfer-2's neuron cache (arXiv 2406.06282) keeps that share of
  every FFN's neurons in DRAM, and the predicted neurons it holds are not read. Without `hit_rate`
  hits are taken in proportion (a neuron is as likely active cached or not). Activations are skewed
  (a few hot neurons fire for most tokens, PowerInfer arXiv 2312.12456 section 3; PowerInfer-2
  section 4.2), so a cache of the hottest neurons holds more of a token's active neurons than its
  share of the FFN: `hit_rate` is that measured share of active neurons found in the cache.
- `two_phase` (PowerInfer-2, arXiv 2406.06282 v3 section 4.3, `cold_reads.TwoPhaseBundle`): a neuron's
  gate, up and down rows stored as one bundle and read in two fixed-size phases, the up/down phase only
  for the co-activated share; with a `range_curve` those reads run at UFS's rate for random reads within
  the span of the FFN's stored bundles (section 2.3.2, Table 1), else at the read curve's rate for one phase.
- `pipelined`: flash reads overlap compute at neuron-cluster granularity (PowerInfer-2's I/O-compute
  pipeline), so a matmul takes max(I/O, compute, DRAM reads) instead of I/O + max(compute, DRAM reads).

Per matmul the time is flash I/O plus max(compute, DRAM reads), not overlapped, like the paper's
I/O + memory + compute latency split, unless `pipelined`. Operators run one at a time in arrival order.
FFN matmuls are the dense FFN's (`ffn.up`, `ffn.down`) and each routed expert's (`expert<i>.up`, `.down`).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
from pydantic import confloat, model_validator

from hwsim.components.base import Memory, OpTiming, SerialComponent, ps, register
from hwsim.components.flash.cold_reads import RangeCurve, TwoPhaseBundle
from hwsim.config.counts import Count
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, ComputeRate


class ReadCurve(Strict):
    """Measured SSD read throughput by chunk size with `queue_depth` reads outstanding."""

    source: str
    queue_depth: Count
    chunks: list[ByteSize]            # ascending
    throughput: list[Bandwidth]       # B/s at each chunk size

    @model_validator(mode="after")
    def _paired(self):
        if len(self.chunks) != len(self.throughput) or list(self.chunks) != sorted(self.chunks):
            raise ValueError("chunks (ascending) and throughput need one entry each")
        return self

    @property
    def sequential(self) -> float:
        """B/s of a linear read: the largest measured chunk's throughput."""
        return max(self.throughput)

    def bandwidth(self, chunk: float, depth: int) -> float:
        """B/s reading `chunk`-byte pieces with `depth` outstanding: the measured curve, interpolated in
        log(chunk) and clamped at its ends, scaled by Little's law (per-read latency = measured depth x
        chunk / throughput stays fixed) and capped by the largest-chunk throughput."""
        measured = float(np.interp(math.log2(chunk), np.log2(self.chunks), self.throughput))
        latency = self.queue_depth * chunk / measured
        return min(self.sequential, depth * chunk / latency)


def window_loads(active: np.ndarray, window: int) -> np.ndarray:
    """Neurons each token must load: active[t] (tokens x neurons, bool) minus those active in any of
    the previous `window` tokens (kept in DRAM). window 0 loads every active neuron."""
    active = np.asarray(active, bool)
    if window == 0:
        return active.sum(1)
    counts = np.vstack([np.zeros((1, active.shape[1]), np.int64), np.cumsum(active, 0, dtype=np.int64)])
    t = np.arange(active.shape[0])
    in_window = counts[t] - counts[np.maximum(t - window, 0)] > 0
    return (active & ~in_window).sum(1)


def window_load_share(active: float, tokens: int, held: float) -> float:
    """Expected share of FFN neurons a token loads under windowing, each neuron a stationary two-state
    Markov chain with active share `active` whose window (the current token and the `tokens` before
    it) holds a share `held` of the neurons. With q = P(inactive -> inactive):
    held = 1 - (1 - active) q^tokens, and a token loads a neuron inactive for the previous `tokens`
    tokens and active now: (1 - active) q^(tokens - 1) (1 - q). Independent tokens are q = 1 - active
    (load active (1 - active)^tokens)."""
    q = ((1 - held) / (1 - active)) ** (1 / tokens)
    return (1 - active) * q ** (tokens - 1) * (1 - q)


class Predictor(Strict):
    active_fraction: confloat(gt=0, lt=1)         # FFN neurons it marks active per token (read from flash)


class Window(Strict):
    tokens: Count                                # previous tokens whose neurons stay in DRAM
    share: confloat(gt=0, lt=1)                  # measured share of FFN neurons the window holds



class OffloadPolicy(Strict):
    hybrid: bool = True                          # non-FFN weights stay in DRAM (false: the naive row)
    ffn_resident: confloat(ge=0, lt=1) = 0.0     # share of each FFN matrix kept in DRAM (with a predictor: cached neurons)
    predictor: Predictor | None = None
    window: Window | None = None
    hit_rate: Optional[confloat(ge=0, le=1)] = None   # active neurons found in the neuron cache (None: ffn_resident)
    bundling: bool = False                       # up column + down row in one read
    two_phase: TwoPhaseBundle | None = None      # gate-up-down bundles read gate first (PowerInfer-2)
    pipelined: bool = False                      # flash reads overlap compute (PowerInfer-2)

    @model_validator(mode="after")
    def _consistent(self):
        if self.predictor is None and (self.window or self.bundling or self.two_phase):
            raise ValueError("window, bundling and two_phase read predicted neurons: they need a predictor")
        if self.bundling and self.two_phase:
            raise ValueError("bundling and two_phase both set a neuron's read: give one")
        if self.window is not None and self.ffn_resident:
            raise ValueError("ffn_resident and window both keep FFN neurons in DRAM: give one")
        if self.ffn_resident and not self.hybrid:
            raise ValueError("ffn_resident needs hybrid: true (the naive row keeps nothing in DRAM)")
        if self.hit_rate is not None and (self.predictor is None or not self.ffn_resident):
            raise ValueError("hit_rate is the neuron cache's: it needs a predictor and ffn_resident > 0")
        if self.hit_rate is not None and self.hit_rate < self.ffn_resident:
            raise ValueError(f"hit_rate {self.hit_rate} below ffn_resident {self.ffn_resident}: a cache of the "
                             f"hottest neurons hits at least in proportion to its share")
        if self.window and not self.predictor.active_fraction < self.window.share:
            raise ValueError(f"window.share {self.window.share} must exceed predictor.active_fraction "
                             f"{self.predictor.active_fraction} (the window holds at least one token's neurons)")
        return self

    def ffn_load_share(self) -> float:
        """Share of an FFN matrix read from flash per token."""
        if self.predictor is None:
            return 1 - self.ffn_resident
        active = self.predictor.active_fraction
        if self.window:
            return window_load_share(active, self.window.tokens, self.window.share)
        return active * (1 - (self.ffn_resident if self.hit_rate is None else self.hit_rate))


class FlashOffloadParams(Strict):
    source: str
    assumptions: str = ""
    read_curve: ReadCurve
    range_curve: Optional[RangeCurve] = None   # random-read rate by address span (with policy.two_phase)
    queue_depth: Count                # reads the runtime keeps outstanding (threads)
    dram_bandwidth: Bandwidth
    compute: ComputeRate              # matmul rate of the host backend
    policy: OffloadPolicy = OffloadPolicy()
    memory_of: Optional[str] = None   # component whose DRAM holds the weights kept resident (the host)

    @model_validator(mode="after")
    def _range_reads(self):
        bundle = self.policy.two_phase
        if self.range_curve is not None and (bundle is None or bundle.read != self.range_curve.chunk):
            raise ValueError("range_curve rates two_phase reads: it needs policy.two_phase with read equal "
                             "to its chunk")
        return self


def is_ffn(op) -> bool:
    """A dense FFN's or a routed expert's up or down projection (the neurons a predictor picks)."""
    block, _, matrix = op.name.partition(".")
    return op.kind == "matmul" and matrix in ("up", "down") and (block == "ffn" or block.startswith("expert"))


@register
class FlashOffload(SerialComponent):
    type_name = "flash_offload"
    Params = FlashOffloadParams
    resource_units = {"flash": "B/s", "dram": "B/s", "compute": "FLOP/s"}
    stats = {"busy_s": "time running matmuls (s)", "io_s": "flash read time (s)",
             "flash_bytes": "weight bytes read from flash (B)", "dram_bytes": "weight bytes read from DRAM (B)"}

    def chunk_bytes(self, op) -> float:
        """One predicted read: a neuron's vector of this matrix, or its bundle with the other matrix."""
        neurons = op.n if op.name.endswith(".up") else op.k
        return op.weight_bytes / op.count / neurons * (2 if self.params.policy.bundling else 1)

    def flash_read(self, op) -> tuple[float, float]:
        """(bytes read from flash, B/s they are read at) for one matmul."""
        p = self.params
        policy = p.policy
        if not is_ffn(op):
            return (0.0 if policy.hybrid else op.weight_bytes), p.read_curve.sequential
        flash = op.weight_bytes * policy.ffn_load_share()
        if policy.predictor is None:
            return flash, p.read_curve.sequential
        if policy.two_phase:
            return self.bundle_read(op, flash)
        return flash, p.read_curve.bandwidth(self.chunk_bytes(op), p.queue_depth)

    def bundle_read(self, op, loaded: float) -> tuple[float, float]:
        """(bytes, B/s) of two-phase reads for the `loaded` bytes of this matrix's neurons: each loaded
        neuron's expected read bytes in place of its rows, shared between the FFN's matrices in proportion
        to their rows (the up matrix fuses all but the down row). The rate is the range curve's for the
        span of the FFN's stored bundles, else the read curve's for one phase's read."""
        p = self.params
        bundle = p.policy.two_phase
        up = op.name.endswith(".up")
        rows = op.n if up else op.k
        row_bytes = op.weight_bytes / op.count / rows
        bundle.fit(row_bytes)
        flash = loaded * bundle.read_bytes() / (bundle.rows * row_bytes)
        if p.range_curve is None:
            return flash, p.read_curve.bandwidth(bundle.read, p.queue_depth)
        neurons = rows / (bundle.rows - 1 if up else 1)
        return flash, p.range_curve.bandwidth(neurons * bundle.stored)

    def memories(self):
        """FFN weights, every routed expert's included, live in the SSD (its size is no parameter: listed,
        not checked); the other
        bytes stay in the DRAM of ``memory_of`` (the host's budget). The FFN neurons the window keeps
        in DRAM are not counted there; the neuron cache's share is (``cached_share``)."""
        return [Memory(f"{self.name}.flash", None, frozenset({"weights", "experts"}))]

    def memory_for(self, kind, op):
        return self.memories()[0] if kind in ("weights", "experts") and is_ffn(op) else None

    def cached_share(self):
        """The neuron cache (``ffn_resident`` with a predictor) keeps that share of the FFN in the host's DRAM;
        a window's neurons and the no-predictor resident share are not counted there."""
        policy = self.params.policy
        return policy.ffn_resident if policy.predictor is not None else 0.0

    def memory_owner(self):
        return self.params.memory_of

    def time(self, op):
        p = self.params
        if op.kind != "matmul":
            raise ValueError(f"{self.name} runs matmuls, got {op.kind} '{op.name}'")
        flash, rate = self.flash_read(op)
        io_ps = ps(flash / rate)
        used = p.policy.predictor.active_fraction if is_ffn(op) and p.policy.predictor else 1.0
        dram = op.weight_bytes * used
        flops = op.flops * used
        work_ps = ps(max(flops / p.compute, dram / p.dram_bandwidth))
        duration = max(io_ps, work_ps) if p.policy.pipelined else io_ps + work_ps
        used = {"flash": flash, "dram": dram, "compute": flops}
        bound = "flash" if io_ps and (io_ps >= work_ps or not p.policy.pipelined) else "dram"
        return OpTiming(duration * 1e-12, bound, used, duration_ps=duration,
                        counts={"io_ps": io_ps})

    def capacity(self, resource):
        p = self.params
        return {"flash": p.read_curve.sequential, "dram": p.dram_bandwidth, "compute": p.compute}[resource]

    def statistics(self):
        return {"busy_s": self._busy_ps * 1e-12, "io_s": self._counts["io_ps"] * 1e-12,
                "flash_bytes": self._used["flash"], "dram_bytes": self._used["dram"]}
