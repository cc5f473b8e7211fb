"""Cambricon-LLM read-compute: one GEMV split between the flash dies' compute cores and NPU reads.

Hardware-aware tiling (arXiv 2409.15654 section VI): the weight matrix (n_out x k_in, INT8) is cut
into request tiles H x W with H * W = channels x dies-per-channel x page elements; each die's
core takes one page-sized atomic tile of (H / dies-per-channel) rows x (W / channels) columns.
Per request each channel carries its W / channels input values once (broadcast to the channel's
cores) and every core sends back its H / dies-per-channel partial sums. The bus volume
W + channels x H is smallest at W = channels x H (AM-GM).

The tiling also fixes where weights live (`die_pages`): one page-tile shape per matrix, column tiles
bound to channels and row tiles to dies, so a matrix side that is not a multiple of the request
tile (OPT-66B's 9216 against S's 2048-wide or M's 8192-wide requests) leaves partial edge requests
that load only some channels and dies: an edge request costs a whole request's page period.

Split: a fraction alpha of the pages is computed in flash, the rest is read by the NPU through
the dies' other plane(s), alpha balancing the two paths' analytic rates (`split_alpha`), applied
to each die's own pages (`place`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np
from pydantic import Field

from hwsim.components.base import ps
from hwsim.components.flash.geometry import FlashGeometry
from hwsim.components.flash.page_reads import KernelTimes, schedule
from hwsim.components.npu.systolic import SystolicArray
from hwsim.config.counts import Count
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

    rows: Count
    cols: Count
    frequency: Frequency
    dataflow: Literal["ws", "os", "is"] = "ws"
    macs_per_pe_cycle: Count = 1

    def page_ps(self, rows: int, cols: int, batch: int) -> int:
        """Time to multiply one page tile of rows x cols INT8 weights by `batch` vectors."""
        array = SystolicArray(self.rows, self.cols, self.dataflow, self.macs_per_pe_cycle)
        return ps(int(array.compute_cycles(batch, rows, cols)) / self.frequency)


class Policy(Strict):
    """Scheduling choices of the Cambricon-LLM flash controller (each one an ablation switch)."""

    tile: Optional[tuple[Count, Count]] = None               # [H, W]; None = hardware-aware optimum
    # Slice Control (section V): NPU page data-out in slices, read-compute traffic first on the bus,
    # and the die's idle plane serving page reads while the other read-computes. False (the ablation's
    # baseline): whole-page data-out in a plain FIFO channel queue, and a die without Slice Control:
    # its planes run one array read at a time (`die_geometry`)
    read_slicing: bool = True
    slice_size: ByteSize = "4KB"
    slice_overhead: Latency = "0ns"   # bus time of the column change that starts each slice
    npu_coprocessing: bool = True      # False: flash-only, every page is read-computed


def die_geometry(g: FlashGeometry, policy: Policy) -> FlashGeometry:
    """The flash as the channel kernel times it under `policy`. Without Slice Control a die's two planes
    no longer read at once: the paper puts the idle plane's page reads beside read-compute under Slice
    Control (arXiv 2409.15654, its Slice Control; reference/lut_flash.md B1), and a standard die
    runs plane operations concurrently only when they are of one type, issued together (ONFI multi-plane
    reads: 'simultaneous operations of the same type', MEMCON/ONFI slides, jaehyek.github.io/2016/12/07/
    eMMC-UFS-FTL-4; independent plane reads need added die logic, AMPI, US 11657861 B2; SSDsim, which the
    paper extended, keeps one state per chip and overlaps planes only in two-plane commands). A
    read-compute on plane 0 and a page read on plane 1 are two different operations."""
    return g if policy.read_slicing else g.model_copy(update={"multi_plane": False})


def hardware_aware_tile(g: FlashGeometry) -> tuple[int, int]:
    """(H, W) minimising W + channels x H at H x W = all cores' pages, H a power of two. Where two
    heights tie (M: the exact optimum sqrt(pages / channels) = 362 lies between 256 and 512) the
    paper gives no rule; the shorter, wider tile is taken (M: 256 x 8192, the tile hwsim always used)."""
    elements = g.channels * g.dies_per_channel * g.page_size
    heights = [2 ** e for e in range(elements.bit_length()) if elements % 2 ** e == 0]
    height = min(heights, key=lambda h: (elements // h + g.channels * h, h))
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


def die_pages(g: FlashGeometry, rows: int, cols: int, n_out: int, k_in: int) -> np.ndarray:
    """Pages per [channel, die] of an n_out x k_in matrix stored in page tiles of rows x cols.

    Section VI: every request tile is one read-compute request across all cores, each core taking a
    page-sized atomic tile, so the tiling fixes where each weight lives: column tile j on channel
    j mod channels, row tile i on die i mod dies-per-channel. A matrix side that is not a multiple of
    the tile leaves padded edge pages, and edge requests that occupy only some channels or dies; a
    matrix shorter than the request leaves dies without pages (section VIII-E: with many chips per
    channel 'the model weight [is not] effectively distributed across all chips ... many remained idle').
    """
    C, D = g.channels, g.dies_per_channel
    col_tiles, row_tiles = math.ceil(k_in / cols), math.ceil(n_out / rows)
    per_channel = col_tiles // C + (np.arange(C) < col_tiles % C)
    per_die = row_tiles // D + (np.arange(D) < row_tiles % D)
    return np.outer(per_channel, per_die).astype(np.int64)


def place(g: FlashGeometry, pages: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Split each die's pages: read-compute on plane 0 ([channel, die]), the rest read by the NPU from
    planes 1.. ([channel, die, plane], spread evenly). round(alpha x all pages) are read-computed:
    floor(alpha x pages) per die, the remaining ones to the dies with the largest fractional share,
    ties channel-first (a die holding one page computes it or sends it whole)."""
    share = alpha * pages.T.ravel()                       # dies channel-first: index die x channels + channel
    n_rc = np.floor(share).astype(np.int64)
    extra = int(round(alpha * pages.sum())) - int(n_rc.sum())
    n_rc[np.argsort(n_rc - share, kind="stable")[:extra]] += 1
    n_rc = n_rc.reshape(pages.shape[::-1]).T
    rest, planes = pages - n_rc, g.planes_per_die - 1
    n_norm = np.zeros((g.channels, g.dies_per_channel, g.planes_per_die), np.int64)
    n_norm[:, :, 1:] = rest[:, :, None] // planes + (np.arange(planes) < (rest % planes)[:, :, None])
    return n_rc, n_norm


def gemv_time(g: FlashGeometry, core: ComputeCore, npu: NPU, policy: Policy,
              n_out: int, k_in: int, batch: int, weight_bytes: float) -> GemvTiming:
    """Time one GEMV (n_out x k_in INT8 weights, `weight_bytes` with any bias, times `batch`
    vectors) from an idle device. A bias (n_out values) is added by the NPU with the partial sums."""
    if g.planes_per_die < 2:
        raise ValueError("read-compute with NPU reads needs >= 2 planes per die (one feeds the core)")
    if round(weight_bytes / (n_out * k_in)) != 1:
        raise ValueError(f"Cambricon-LLM flash computes on INT8 weights (1 byte each), got "
                         f"{weight_bytes / (n_out * k_in):g} bytes per weight; run with int8 weights")
    rows, cols = page_tile(g, policy.tile or hardware_aware_tile(g), n_out, k_in)
    t = kernel_times(g, core, policy, rows, cols, batch)
    npu_page = npu.page_ps(rows, cols, batch)
    alpha = split_alpha(g, t, npu_page) if policy.npu_coprocessing else 1.0
    n_rc, n_norm = place(g, die_pages(g, rows, cols, n_out, k_in), alpha)
    times = schedule(die_geometry(g, policy), t, n_rc, n_norm)
    arrivals = times.arrivals_ps
    # the NPU multiplies pages in arrival order, one at a time: finish = max_i(a_i + (n - i) x page)
    npu_end = int(np.max(arrivals + (arrivals.size - np.arange(arrivals.size)) * npu_page)) if arrivals.size else 0
    n_flash, pages = int(n_rc.sum()), int(n_rc.sum() + n_norm.sum())
    return GemvTiming(max(int(times.rc_done_ps.max()), npu_end), n_flash / pages if pages else 0.0, n_flash,
                      pages - n_flash, int(times.bus_busy_ps.sum()), int(times.rc_bus_ps.sum()),
                      arrivals.size * npu_page)
