"""Cambricon-LLM read-compute: one GEMV split between the flash dies' compute cores and NPU reads.

Hardware-aware tiling (arXiv 2409.15654 section VI): the weight matrix (n_out x k_in, INT8) is cut
into request tiles H x W with H * W = channels x dies-per-channel x page elements; each die's
core takes one page-sized atomic tile of (H / dies-per-channel) rows x (W / channels) columns.
Per request each channel carries its W / channels input values once (broadcast to the channel's
cores) and every core sends back its H / dies-per-channel partial sums. The bus volume
W + channels x H is smallest at W = channels x H (AM-GM).

Split: a fraction alpha of the pages is computed in flash, the rest is read by the NPU through
the dies' other plane(s), alpha balancing the two paths' analytic rates (`split_alpha`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np
from pydantic import Field, PositiveInt

from hwsim.components.base import ps
from hwsim.components.flash.geometry import FlashGeometry
from hwsim.components.flash.page_reads import KernelTimes, schedule
from hwsim.components.npu.systolic import SystolicArray
from hwsim.config.schema import Strict
from hwsim.config.units import Bandwidth, ByteSize, Frequency, Latency, Power


class ComputeCore(Strict):
    """The per-die core shared by the die's planes (one page at a time)."""

    throughput: Bandwidth          # INT8 weight bytes consumed per second (MAC rate for a GEMV)
    input_buffer: ByteSize         # holds input slices of this many bytes (whole requests)
    output_buffer: ByteSize        # holds results of this many bytes (whole pages' partial sums)
    result_bytes: int = Field(gt=0, le=64)   # bytes per partial sum sent back (one scalar: 1..8 in practice)
    power: Optional[Power] = None  # while computing a page (W); None: energy not modelled

    def page_energy_j(self, page_bytes: int, batch: int) -> float:
        """Energy of one page's GEMV: power x the time the core computes it."""
        return (self.power or 0.0) * page_bytes * batch / self.throughput


class NPU(Strict):
    """The NPU's systolic array that multiplies the pages it reads (cycle model of npu/systolic.py)."""

    rows: PositiveInt
    cols: PositiveInt
    frequency: Frequency
    dataflow: Literal["ws", "os", "is"] = "ws"
    macs_per_pe_cycle: PositiveInt = 1

    def page_ps(self, rows: int, cols: int, batch: int) -> int:
        """Time to multiply one page tile of rows x cols INT8 weights by `batch` vectors."""
        array = SystolicArray(self.rows, self.cols, self.dataflow, self.macs_per_pe_cycle)
        return ps(int(array.compute_cycles(batch, rows, cols)) / self.frequency)


class Policy(Strict):
    """Scheduling choices of the Cambricon-LLM flash controller (each one an ablation switch)."""

    tile: Optional[tuple[PositiveInt, PositiveInt]] = None   # [H, W]; None = hardware-aware optimum
    # Slice Control (section V): NPU page data-out in slices, read-compute traffic first on the bus;
    # False: whole-page data-out in a plain FIFO channel queue (the ablation's baseline)
    read_slicing: bool = True
    slice_size: ByteSize = "4KB"
    slice_overhead: Latency = "0ns"   # bus time of the column change that starts each slice
    npu_coprocessing: bool = True      # False: flash-only, every page is read-computed


def hardware_aware_tile(g: FlashGeometry) -> tuple[int, int]:
    """(H, W) minimising W + channels x H at H x W = all cores' pages; H a power of two."""
    elements = g.channels * g.dies_per_channel * g.page_size
    height = 2 ** round(math.log2(math.sqrt(elements / g.channels)))
    return height, elements // height


def page_tile(g: FlashGeometry, tile: tuple[int, int], n_out: int, k_in: int) -> tuple[int, int]:
    """(rows, columns) of one die's page-sized atomic tile, the request width clipped to k_in."""
    width = min(tile[1], k_in)
    cols = max(1, width // g.channels)
    return max(1, g.page_size // cols), cols


@dataclass(frozen=True)
class GemvTiming:
    """One GEMV on the hybrid: duration from an idle flash, and how the work was split."""

    duration_ps: int
    alpha: float                  # fraction of pages read-computed in flash
    flash_pages: int
    npu_pages: int
    bus_busy_ps: int              # summed over channels
    rc_bus_ps: int                # read-compute share of bus_busy_ps
    npu_busy_ps: int


def kernel_times(g: FlashGeometry, core: ComputeCore, policy: Policy, rows: int, cols: int, batch: int) -> KernelTimes:
    slicing = policy.read_slicing and policy.slice_size < g.page_size
    n_slices = math.ceil(g.page_size / policy.slice_size) if slicing else 1
    slice_ps = g.transfer_ps(g.page_size / n_slices) + (ps(policy.slice_overhead) if slicing else 0)
    slots = max(1, core.input_buffer // (cols * batch))
    result = rows * batch * core.result_bytes
    out_slots = max(1, core.output_buffer // result)
    # the input broadcast and the result read-out are bus transactions of their own: each starts with
    # command + address cycles, like a page read (data-in 80h..., column read 05h...E0h)
    return KernelTimes(command=g.command_ps, read=g.t_read_ps, core=ps(g.page_size * batch / core.throughput),
                       input=g.command_ps + g.transfer_ps(cols * batch),
                       result=g.command_ps + g.transfer_ps(result),
                       slice=slice_ps, n_slices=n_slices, input_slots=slots, output_slots=out_slots,
                       priority=policy.read_slicing)


def split_alpha(g: FlashGeometry, t: KernelTimes, npu_page_ps: int) -> float:
    """Fraction of pages for read-compute that makes both paths finish together (rates from the
    per-die page period and the bus time read-compute leaves to NPU reads)."""
    period = max(t.read + t.command, t.core)
    flash_rate = g.dies_per_channel / period                          # pages per ps per channel
    rc_bus_share = (t.input + g.dies_per_channel * (t.command + t.result)) / period
    npu_read_ps = t.command + t.n_slices * t.slice
    npu_rate = min((1 - rc_bus_share) / npu_read_ps, 1 / (g.channels * npu_page_ps))
    return flash_rate / (flash_rate + max(npu_rate, 0.0))


def place(g: FlashGeometry, n_flash: int, n_npu: int) -> tuple[np.ndarray, np.ndarray]:
    """Pages per [channel, die] (read-compute, plane 0) and per [channel, die, plane] (NPU reads on
    planes 1..), consecutive pages striped over channels, then dies, then planes."""
    C, D, P = g.channels, g.dies_per_channel, g.planes_per_die
    q = np.arange(n_flash)
    n_rc = np.bincount((q % C) * D + (q // C) % D, minlength=C * D).reshape(C, D)
    q = np.arange(n_npu)
    plane = 1 + (q // (C * D)) % (P - 1)
    n_norm = np.bincount(((q % C) * D + (q // C) % D) * P + plane, minlength=C * D * P).reshape(C, D, P)
    return n_rc, n_norm


def gemv_time(g: FlashGeometry, core: ComputeCore, npu: NPU, policy: Policy,
              n_out: int, k_in: int, batch: int, weight_bytes: float) -> GemvTiming:
    """Time one GEMV (n_out x k_in INT8 weights times `batch` vectors) from an idle device."""
    if g.planes_per_die < 2:
        raise ValueError("read-compute with NPU reads needs >= 2 planes per die (one feeds the core)")
    rows, cols = page_tile(g, policy.tile or hardware_aware_tile(g), n_out, k_in)
    t = kernel_times(g, core, policy, rows, cols, batch)
    npu_page = npu.page_ps(rows, cols, batch)
    pages = math.ceil(weight_bytes / g.page_size)
    alpha = split_alpha(g, t, npu_page) if policy.npu_coprocessing else 1.0
    n_flash = round(alpha * pages)
    n_rc, n_norm = place(g, n_flash, pages - n_flash)
    times = schedule(g, t, n_rc, n_norm)
    arrivals = times.arrivals_ps
    # the NPU multiplies pages in arrival order, one at a time: finish = max_i(a_i + (n - i) x page)
    npu_end = int(np.max(arrivals + (arrivals.size - np.arange(arrivals.size)) * npu_page)) if arrivals.size else 0
    return GemvTiming(max(int(times.rc_done_ps.max()), npu_end), n_flash / pages if pages else 0.0, n_flash,
                      pages - n_flash, int(times.bus_busy_ps.sum()), int(times.rc_bus_ps.sum()),
                      arrivals.size * npu_page)
