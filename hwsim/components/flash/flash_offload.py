"""`type: flash_offload`: "LLM in a flash" (arXiv 2312.11514) FFN weights streamed from an SSD into DRAM.

Selective persistence: attention, embedding and LM-head weights stay in DRAM; the FFN's neurons
(up-projection column i, down-projection row i) live in flash and only the ones the predictor
marks active are read, in chunks of one neuron's vector. The SSD's random-read throughput depends
on the chunk size and on how many reads are outstanding (`ReadCurve`). Policies:

- windowing (`window` = k > 0): neurons active in the last k tokens stay in DRAM, so a token
  loads only the active neurons none of those k tokens used (`window_loads` on an activation
  trace; the component uses its expectation for independent activations, s (1 - s)^k per neuron,
  a lower bound on the benefit: real activations are correlated in time);
- row-column bundling (`bundling`): a neuron's up column and down row are stored together, so one
  read of twice the chunk serves both matmuls.

Per matmul the time is flash I/O plus max(compute, DRAM reads), not overlapped, like the paper's
I/O + memory + compute latency split. Operators run one at a time in arrival order.
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import NonNegativeInt, PositiveInt, confloat, model_validator

from hwsim.components.base import Memory, OpTiming, SerialComponent, ps, register
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, ComputeRate


class ReadCurve(Strict):
    """Measured SSD read throughput by chunk size with `queue_depth` reads outstanding."""

    source: str
    queue_depth: PositiveInt
    chunks: list[ByteSize]            # ascending
    throughput: list[Bandwidth]       # B/s at each chunk size

    @model_validator(mode="after")
    def _paired(self):
        if len(self.chunks) != len(self.throughput) or list(self.chunks) != sorted(self.chunks):
            raise ValueError("chunks (ascending) and throughput need one entry each")
        return self

    def bandwidth(self, chunk: float, depth: int) -> float:
        """B/s reading `chunk`-byte pieces with `depth` outstanding: the measured curve, interpolated in
        log(chunk) and clamped at its ends, scaled by Little's law (per-read latency = measured depth x
        chunk / throughput stays fixed) and capped by the largest-chunk throughput."""
        measured = float(np.interp(math.log2(chunk), np.log2(self.chunks), self.throughput))
        latency = self.queue_depth * chunk / measured
        return min(max(self.throughput), depth * chunk / latency)


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


class OffloadPolicy(Strict):
    active_fraction: confloat(gt=0, le=1) = 1.0    # FFN neurons the predictor loads per token
    window: NonNegativeInt = 0                     # tokens whose neurons stay in DRAM
    bundling: bool = False                         # up column + down row in one read


class FlashOffloadParams(Strict):
    source: str
    assumptions: str = ""
    read_curve: ReadCurve
    queue_depth: PositiveInt          # reads the runtime keeps outstanding (threads)
    dram_bandwidth: Bandwidth
    compute: ComputeRate              # matmul rate of the host backend
    policy: OffloadPolicy = OffloadPolicy()


def is_ffn(op) -> bool:
    return op.kind == "matmul" and op.name in ("ffn.up", "ffn.down")


@register
class FlashOffload(SerialComponent):
    type_name = "flash_offload"
    Params = FlashOffloadParams
    resource_units = {"flash": "B/s", "dram": "B/s", "compute": "FLOP/s"}
    stats = {"busy_s": "time running matmuls (s)", "io_s": "flash read time (s)",
             "flash_bytes": "FFN bytes read from flash (B)", "dram_bytes": "weight bytes read from DRAM (B)"}

    def load_fraction(self) -> float:
        """Expected share of an FFN matrix read from flash per token (independent activations)."""
        s, k = self.params.policy.active_fraction, self.params.policy.window
        return s * (1 - s) ** k

    def chunk_bytes(self, op) -> float:
        """One read: a neuron's vector of this matrix, or its bundle with the other matrix."""
        neurons = op.n if op.name == "ffn.up" else op.k
        return op.weight_bytes / op.count / neurons * (2 if self.params.policy.bundling else 1)

    def memories(self):
        """FFN weights live in the SSD; the others stay in the host's DRAM budget, which the host
        component accounts for its own operators; neither capacity is a parameter here, so these
        bytes are listed, not checked."""
        return [Memory(f"{self.name}.flash", None, frozenset({"weights"})),
                Memory(f"{self.name}.dram", None, frozenset({"weights", "kv", "activations"}))]

    def memory_for(self, kind, op):
        flash, dram = self.memories()
        return flash if kind == "weights" and is_ffn(op) else dram

    def time(self, op):
        p = self.params
        if op.kind != "matmul":
            raise ValueError(f"{self.name} runs matmuls, got {op.kind} '{op.name}'")
        if is_ffn(op):
            flash = op.weight_bytes * self.load_fraction()
            io_ps = ps(flash / p.read_curve.bandwidth(self.chunk_bytes(op), p.queue_depth))
            used = p.policy.active_fraction
        else:
            flash, io_ps, used = 0.0, 0, 1.0
        dram = op.weight_bytes * used
        flops = op.flops * used
        duration = io_ps + ps(max(flops / p.compute, dram / p.dram_bandwidth))
        used = {"flash": flash, "dram": dram, "compute": flops}
        return OpTiming(duration * 1e-12, "flash" if io_ps else "dram", used, duration_ps=duration,
                        counts={"io_ps": io_ps})

    def capacity(self, resource):
        p = self.params
        return {"flash": max(p.read_curve.throughput), "dram": p.dram_bandwidth, "compute": p.compute}[resource]

    def statistics(self):
        return {"busy_s": self._busy_ps * 1e-12, "io_s": self._counts["io_ps"] * 1e-12,
                "flash_bytes": self._used["flash"], "dram_bytes": self._used["dram"]}
