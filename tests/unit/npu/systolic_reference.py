"""Slow per-cycle reference of one systolic-array fold (tests only, small arrays).

Every cycle, each PE register is updated from its left and upper neighbours, as in the RTL
(rtl_models/systolic_array): `a` moves right, `v` moves down (ws: partial sums, os: B values),
`s` stays (ws: weight, os: accumulator). Each value carries the stream index it belongs to
(-1 for a bubble), so the simulation stops when the last real output is produced and the
cycle count is measured, not computed from a formula.
"""
from __future__ import annotations

import numpy as np

from hwsim.components.npu.systolic import Dataflow
from hwsim.components.npu.systolic_folds import Fold

MAX_CYCLES = 100_000


def _shift_in(edge: np.ndarray, grid: np.ndarray, axis: int) -> np.ndarray:
    """What each PE sees this cycle: `edge` at the array border, the neighbour's register elsewhere."""
    return np.concatenate([np.expand_dims(edge, axis), np.delete(grid, -1, axis)], axis=axis)


def _skewed(stream: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Values (and stream indices, -1 = bubble) entering each lane at `step`: lane i lags by i."""
    t = step - np.arange(stream.shape[1])
    ok = (t >= 0) & (t < stream.shape[0])
    values = np.where(ok, stream[np.clip(t, 0, stream.shape[0] - 1), np.arange(stream.shape[1])], 0)
    return values.astype(np.int64), np.where(ok, t, -1)


def run_fold(fold: Fold) -> tuple[np.ndarray, int]:
    """(result, cycles) of one fold: ws (T, C) outputs, os (R, C) accumulators (int32)."""
    t_len, rows = fold.left.shape
    cols = fold.top.shape[1]
    a, a_idx = np.zeros((rows, cols), np.int64), np.full((rows, cols), -1)
    v, v_idx = np.zeros((rows, cols), np.int64), np.full((rows, cols), -1)
    s = np.zeros((rows, cols), np.int64)
    out = np.zeros((t_len, cols), np.int64)
    remaining = t_len * cols if fold.mode is Dataflow.WS else rows * cols * t_len
    load = rows if fold.mode is Dataflow.WS else 0
    for cycle in range(MAX_CYCLES):
        if cycle < load:   # shift weight rows in from the top, last row first
            v = _shift_in(fold.top[rows - 1 - cycle].astype(np.int64), v, 0)
            s = v.copy()
            continue
        step = cycle - load
        edge_a, edge_idx = _skewed(fold.left, step)
        a_in, a_in_idx = _shift_in(edge_a, a, 1), _shift_in(edge_idx, a_idx, 1)
        if fold.mode is Dataflow.WS:
            v_in = _shift_in(np.zeros(cols, np.int64), v, 0)
            v = v_in + a_in * s
            bottom = a_in_idx[-1]
            done = bottom >= 0
            out[bottom[done], np.flatnonzero(done)] = v[-1, done]
            remaining -= done.sum()
        else:
            edge_b, edge_b_idx = _skewed(fold.top, step)
            v_in, v_in_idx = _shift_in(edge_b, v, 0), _shift_in(edge_b_idx, v_idx, 0)
            fire = a_in_idx >= 0
            assert np.array_equal(fire, v_in_idx >= 0) and np.array_equal(a_in_idx[fire], v_in_idx[fire])
            s = s + a_in * v_in
            v, v_idx = v_in, v_in_idx
            remaining -= fire.sum()
        a, a_idx = a_in, a_in_idx
        if remaining == 0:
            return (out if fold.mode is Dataflow.WS else s).astype(np.int32), cycle + 1
    raise RuntimeError("fold did not finish")
