"""Timing of a batch of page reads (and read-compute pages) over all channels of a flash device.

Channels share nothing during reads, so each is scheduled on its own by the numba kernel; a
channel with the same work as one already scheduled reuses its result (striped layouts give
most channels identical work).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.components.flash.channel_kernel import simulate_channel
from hwsim.components.flash.geometry import FlashGeometry


@dataclass(frozen=True)
class ChannelTimes:
    """Bus-level timings of one batch of work, one entry per channel (all in ps)."""

    end_ps: np.ndarray          # last bus event per channel
    bus_busy_ps: np.ndarray     # bus occupied (all traffic)
    rc_bus_ps: np.ndarray       # bus occupied by read-compute inputs, commands, results
    arrivals_ps: np.ndarray     # data-out completion of every normal page (all channels, sorted)
    rc_done_ps: np.ndarray      # [channel, die] last read-compute result sent

    @property
    def makespan_ps(self) -> int:
        return int(self.end_ps.max()) if self.end_ps.size else 0


@dataclass(frozen=True)
class KernelTimes:
    """Integer-ps durations the channel kernel uses."""

    command: int
    read: int
    core: int = 0
    input: int = 0
    result: int = 0
    slice: int = 0
    n_slices: int = 1
    input_slots: int = 1
    output_slots: int = 1
    priority: bool = True       # bus serves commands, then read-compute traffic, then data-out first

    @classmethod
    def page_reads(cls, g: FlashGeometry) -> "KernelTimes":
        return cls(command=g.command_ps, read=g.t_read_ps, slice=g.transfer_ps(g.page_size))


def schedule(g: FlashGeometry, times: KernelTimes, n_rc: np.ndarray, n_norm: np.ndarray) -> ChannelTimes:
    """Schedule n_rc[channel, die] read-compute pages and n_norm[channel, die, plane] page reads."""
    n_rc = np.ascontiguousarray(n_rc, np.int64)
    n_norm = np.ascontiguousarray(n_norm, np.int64)
    C = g.channels
    end, busy, rc_bus = (np.zeros(C, np.int64) for _ in range(3))
    rc_done = np.zeros((C, g.dies_per_channel), np.int64)
    arrivals, seen = [], {}
    for c in range(C):
        key = (n_rc[c].tobytes(), n_norm[c].tobytes())
        if key not in seen:
            out = simulate_channel(n_rc[c], n_norm[c], times.command, times.read, times.core, times.input,
                                   times.result, times.slice, times.n_slices, g.cache_read, g.multi_plane,
                                   times.input_slots, times.output_slots, times.priority)
            if out[0] < 0:
                raise RuntimeError("flash channel schedule stalled (no bus job can become ready)")
            seen[key] = out
        end[c], busy[c], rc_bus[c], arr, rc_done[c] = seen[key][:5]
        arrivals.append(arr)
    return ChannelTimes(end, busy, rc_bus, np.sort(np.concatenate(arrivals)) if arrivals else np.zeros(0, np.int64),
                        rc_done)


def plane_counts(g: FlashGeometry, planes: np.ndarray) -> np.ndarray:
    """Pages per [channel, die-in-channel, plane] from flat plane ids
    (id = ((channel * chips + chip) * dies + die) * planes + plane)."""
    shape = (g.channels, g.dies_per_channel, g.planes_per_die)
    return np.bincount(np.asarray(planes, np.int64), minlength=int(np.prod(shape))).reshape(shape)


def read_pages(g: FlashGeometry, planes: np.ndarray) -> ChannelTimes:
    """Time a batch of page reads, all issued at time 0, served in order per plane."""
    counts = plane_counts(g, planes)
    return schedule(g, KernelTimes.page_reads(g), np.zeros(counts.shape[:2], np.int64), counts)


def striped(g: FlashGeometry, n_pages: int) -> np.ndarray:
    """Plane ids of a sequential stream striped channel-first, then die, then plane (the layout
    that spreads consecutive pages over the most parallel units)."""
    i = np.arange(n_pages, dtype=np.int64)
    channel = i % g.channels
    rest = i // g.channels
    die = rest % g.dies_per_channel
    plane = (rest // g.dies_per_channel) % g.planes_per_die
    return (channel * g.dies_per_channel + die) * g.planes_per_die + plane
