"""Functional model of the systolic array and the fold schedule it runs a GEMM in.

`gemm` is the numbers the hardware produces. `iter_folds` cuts a GEMM into the R x C folds of
the cycle model (`systolic.SystolicArray`, one PE MAC per cycle), in SCALE-Sim's order (column
folds outer, row folds inner), as the operand tiles that enter the array's two edges. The
per-cycle reference simulator and the RTL testbench both run these folds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from hwsim.components.npu.systolic import Dataflow, ceil_div

INT8_MIN, INT8_MAX = -128, 127


def gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C = A @ B as the array computes it: int8 operands, int32 accumulators wrapping on overflow."""
    a, b = np.asarray(a), np.asarray(b)
    for x in (a, b):
        if x.size and (x.min() < INT8_MIN or x.max() > INT8_MAX):
            raise ValueError("operands must be int8 values")
    # int64 sums are exact here; the cast wraps mod 2**32 exactly like int32 accumulators do.
    return (a.astype(np.int64) @ b.astype(np.int64)).astype(np.int32)


def _padded(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int8)
    out[: x.shape[0], : x.shape[1]] = x
    return out


@dataclass(frozen=True)
class Fold:
    """One R x C tile of work for an array running in `mode` (ws or os).

    left: (T, R) int8; stream step t feeds left[t, r] into array row r (before the skew).
    top:  ws: (R, C) int8 weights, stationary; os: (T, C) int8, step t feeds top[t, c] into column c.
    The array returns ws: (T, C) int32 outputs leaving the bottom edge; os: (R, C) accumulators.
    `place` adds that into rows x cols of the GEMM output (of its transpose for input-stationary).
    """

    mode: Dataflow
    left: np.ndarray
    top: np.ndarray
    rows: slice
    cols: slice
    transposed: bool = False

    @property
    def t(self) -> int:
        """Vectors streamed through the array in this fold."""
        return self.left.shape[0]

    def place(self, out: np.ndarray, result: np.ndarray) -> None:
        view = out.T if self.transposed else out
        n_rows, n_cols = self.rows.stop - self.rows.start, self.cols.stop - self.cols.start
        view[self.rows, self.cols] += result[:n_rows, :n_cols].astype(np.int32)


def iter_folds(a: np.ndarray, b: np.ndarray, rows: int, cols: int,
               dataflow: Dataflow | str) -> Iterator[Fold]:
    """The folds that compute A @ B on a rows x cols array; `place` each result into zeros (M, N)."""
    dataflow = Dataflow(dataflow)
    if dataflow is Dataflow.IS:   # input-stationary is weight-stationary on C.T = B.T @ A.T
        for fold in iter_folds(b.T, a.T, rows, cols, Dataflow.WS):
            yield Fold(fold.mode, fold.left, fold.top, fold.rows, fold.cols, transposed=True)
        return
    m, k = a.shape
    n = b.shape[1]
    sr = k if dataflow is Dataflow.WS else m
    for j in range(ceil_div(n, cols)):
        n0, n1 = j * cols, min(n, (j + 1) * cols)
        for i in range(ceil_div(sr, rows)):
            s0, s1 = i * rows, min(sr, (i + 1) * rows)
            if dataflow is Dataflow.WS:   # rows hold k, time runs over m, partial sums add up over k folds
                yield Fold(dataflow, _padded(a[:, s0:s1], (m, rows)), _padded(b[s0:s1, n0:n1], (rows, cols)),
                           slice(0, m), slice(n0, n1))
            else:                         # rows hold m, time runs over k
                yield Fold(dataflow, _padded(a[s0:s1, :].T, (k, rows)), _padded(b[:, n0:n1], (k, cols)),
                           slice(s0, s1), slice(n0, n1))
