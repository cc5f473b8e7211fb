"""Operators -> per-channel PIM command streams (numpy, no Python loop per command).

GEMV layout (row-major tiling, PIM-GPT / AiM): every bank of a channel holds whole output neurons
(rows of W^T), all banks run in lockstep under MAC_ABK, and the input vector is broadcast from the
global buffer (GB). The input is processed in GB-sized chunks: for each chunk the host writes it
with WR_GB bursts, then every neuron's segment of that chunk is streamed through MAC_ABK (one
column = ``lanes`` elements per bank) and its partial sum read out with RD_MAC; the host adds the
partial sums of the chunks. Segments of one chunk lie back to back in the DRAM rows so rows stay
open (``pack_rows``, PIM-GPT's head concatenation); without packing each segment starts a row.

Attention (decode): K is stored row-major (a key is a neuron of length head_dim, the query sits in
the GB) and V column-major (an output dimension is a neuron of length keys, the scores sit in
the GB), so both products are GEMVs in the banks.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from .standards import COMMANDS

ACT, PRE, PREA, RD, WR = (COMMANDS.index(c) for c in ("ACT", "PRE", "PREA", "RD", "WR"))
ACT_ABK, MAC_ABK, WR_GB, RD_MAC, EWMUL = (COMMANDS.index(c) for c in ("ACT_ABK", "MAC_ABK", "WR_GB", "RD_MAC", "EWMUL"))


@dataclass(frozen=True)
class Layout:
    """What the stream builders need to know about one PIM channel."""

    columns_per_row: int      # MAC columns (bursts) per DRAM row
    lanes: int                # elements one MAC column holds per bank
    gb_elements: int          # global-buffer capacity in elements
    banks: int                # banks with a MAC unit (run in lockstep)
    banks_per_group: int
    pack_rows: bool = True


@dataclass(frozen=True)
class Stream:
    """One channel's command stream: command ids, rows (-1: none) and single-bank targets."""

    cmd: np.ndarray
    row: np.ndarray
    bankgroup: np.ndarray
    bank: np.ndarray

    @staticmethod
    def join(parts: list["Stream"]) -> "Stream":
        return Stream(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("cmd", "row", "bankgroup", "bank")))

    def repeat(self, times: int) -> "Stream":
        return Stream(*(np.tile(getattr(self, f), times) for f in ("cmd", "row", "bankgroup", "bank")))

    def __len__(self):
        return self.cmd.size

    @cached_property
    def fields(self) -> tuple[np.ndarray, ...]:
        """(cmd, rank, bankgroup, bank, row) as contiguous int64 arrays for the kernels, rank 0; built
        once per stream (the builders are memoised, so a layer's streams recur in every layer)."""
        return tuple(np.ascontiguousarray(a, dtype=np.int64)
                     for a in (self.cmd, np.zeros(len(self)), self.bankgroup, self.bank, self.row))

    @cached_property
    def digest(self) -> bytes:
        """A content key: equal streams, built anywhere, share a repeat plan (pim_stream.RepeatPlans)."""
        return hashlib.blake2b(b"".join(a.tobytes() for a in self.fields), digest_size=16).digest()

    def frozen(self) -> "Stream":
        """This stream with read-only arrays, safe to share from a cache."""
        for f in ("cmd", "row", "bankgroup", "bank"):
            getattr(self, f).flags.writeable = False
        return self


def _all_bank(cmd, row) -> Stream:
    zeros = np.zeros(len(cmd), np.int64)
    return Stream(np.asarray(cmd, np.int64), np.asarray(row, np.int64), zeros, zeros.copy())


@lru_cache(maxsize=256)
def gemv_stream(layout: Layout, k: int, neurons_per_bank: int, first_row: int = 0, *, segment: int = 0,
                registers: int = 1) -> Stream:
    """Stream of one GEMV: each bank computes ``neurons_per_bank`` dot products of length k.
    Memoised (read-only arrays): every layer of a model asks for the same few streams.

    Per GB chunk: WR_GB bursts, then each neuron's columns under MAC_ABK. A *readout* is one MAC
    register's partial sum: a neuron's ``segment`` elements of the chunk (0: the whole chunk; CENT's
    K cache holds every head of a token in one row, a readout per head). The banks accumulate
    ``registers`` readouts (CENT reuse-GB: 32 MAC registers) before they are read with one RD_MAC each.
    """
    if k <= 0 or neurons_per_bank <= 0:
        return _all_bank([], []).frozen()
    cpr, lanes = layout.columns_per_row, layout.lanes
    chunks = np.diff(np.append(np.arange(0, k, layout.gb_elements), k))
    parts, column, last_row = [], first_row * cpr, -1
    for chunk in chunks:
        seg = math.ceil(chunk / lanes)                     # MAC columns per neuron in this chunk
        unit = min(seg, math.ceil(segment / lanes)) if segment else seg   # MAC columns per readout
        stride = seg if layout.pack_rows else math.ceil(seg / cpr) * cpr
        starts = column + np.arange(neurons_per_bank) * stride
        offsets = np.arange(seg)
        pos = (starts[:, None] + offsets).ravel()
        row = pos // cpr
        new_row = np.ones(pos.size, bool)
        new_row[1:] = row[1:] != row[:-1]
        new_row[0] = row[0] != last_row                    # the previous chunk's row may still be open
        ends = np.flatnonzero(np.tile((offsets % unit == unit - 1) | (offsets == seg - 1), neurons_per_bank))
        group_ends = ends[registers - 1::registers]
        if group_ends.size == 0 or group_ends[-1] != ends[-1]:
            group_ends = np.append(group_ends, ends[-1])
        readouts = np.zeros(pos.size, np.int64)
        readouts[group_ends] = np.diff(np.searchsorted(ends, group_ends, side="right"), prepend=0)
        precharge = new_row.copy()
        precharge[0] &= last_row >= 0                      # banks start precharged
        per_column = 2 * new_row + 1 + readouts
        kinds = np.repeat(np.arange(pos.size), per_column)
        first = np.cumsum(per_column) - per_column
        slot = np.arange(kinds.size) - first[kinds]            # position inside the column's commands
        opens = new_row[kinds]
        cmd = np.select([opens & (slot == 0), opens & (slot == 1), slot == 2 * opens], [PREA, ACT_ABK, MAC_ABK],
                        RD_MAC)
        rows = np.where((cmd == ACT_ABK) | (cmd == MAC_ABK), row[kinds], -1)
        keep = (cmd != PREA) | precharge[kinds]
        gb = _all_bank(np.full(seg, WR_GB), np.full(seg, -1))
        parts += [gb, _all_bank(cmd[keep], rows[keep])]
        column, last_row = starts[-1] + stride, row[-1]
    parts.append(_all_bank([PREA], [-1]))
    return Stream.join(parts).frozen()


@lru_cache(maxsize=64)
def ewmul_stream(layout: Layout, elements: int) -> Stream:
    """All-bank element-wise multiply of ``elements`` per bank group, row by row (ACT_ABK, EWMUL per
    ``lanes`` elements, PREA): CENT's in-PIM softmax scaling (Llama.py trace_only, EWMUL_only_trace).
    Memoised like gemv_stream."""
    per_row = layout.columns_per_row * layout.lanes
    parts = []
    for row, start in enumerate(range(0, elements, per_row)):
        columns = math.ceil(min(per_row, elements - start) / layout.lanes)
        parts.append(_all_bank([ACT_ABK] + [EWMUL] * columns + [PREA], [row] * (columns + 1) + [-1]))
    return (Stream.join(parts) if parts else _all_bank([], [])).frozen()


@lru_cache(maxsize=64)
def bank_access_stream(layout: Layout, bursts: int, write: bool, first_row: int = 0) -> Stream:
    """Single-bank reads or writes of ``bursts`` bursts spread over the banks round-robin, each
    bank streaming its share row by row (ACT, RD/WR..., PRE): embedding gathers, KV-cache appends.
    Memoised like gemv_stream."""
    if bursts <= 0:
        return _all_bank([], []).frozen()
    cpr, banks = layout.columns_per_row, layout.banks
    per_bank = np.full(banks, bursts // banks) + (np.arange(banks) < bursts % banks)
    cmds, rows, bgs, bks = [], [], [], []
    for b in np.flatnonzero(per_bank):
        n = int(per_bank[b])
        row = first_row + np.arange(n) // cpr
        new_row = np.ones(n, bool)
        new_row[1:] = row[1:] != row[:-1]
        mask = np.stack([new_row, new_row, np.ones(n, bool)], axis=1)
        mask[0, 0] = False
        cmd = np.broadcast_to(np.array([PRE, ACT, WR if write else RD]), mask.shape)[mask]
        cmds += [cmd, [PRE]]
        rows += [np.stack([row, row, row], axis=1)[mask], [row[-1]]]
        bgs.append(np.full(cmd.size + 1, b // layout.banks_per_group))
        bks.append(np.full(cmd.size + 1, b % layout.banks_per_group))
    # interleave the banks command by command so that their row cycles overlap
    streams = [Stream(np.append(c, p).astype(np.int64), np.append(r, q).astype(np.int64), g.astype(np.int64),
                      k.astype(np.int64))
               for c, p, r, q, g, k in zip(cmds[0::2], cmds[1::2], rows[0::2], rows[1::2], bgs, bks)]
    key = np.concatenate([np.arange(len(s)) * len(streams) + i for i, s in enumerate(streams)])
    joined = Stream.join(streams)
    order = np.argsort(key, kind="stable")
    return Stream(joined.cmd[order], joined.row[order], joined.bankgroup[order], joined.bank[order]).frozen()


def split_work(units: int, per_unit: int, channels: int) -> tuple[int, int, int]:
    """Spread ``units`` independent problems (heads, experts) of ``per_unit`` splittable items over
    channels: whole units per channel when there are enough, else each unit's items split over
    ``channels // units`` channels. Returns (units per channel, items per channel, channels per unit)."""
    if units >= channels:
        return math.ceil(units / channels), per_unit, 1
    share = channels // units
    return 1, math.ceil(per_unit / share), share
