"""Ternary grouping (TeLLMe's TLMM): 3 weights in {-1, 0, +1} form one of 27 patterns.

Pattern p = sum_j (w_j + 1) 3^j indexes a table T[p] = sum_j w_j a_j over 3 activations.
Negating every weight maps p to 26 - p, so T[26 - p] = -T[p] and T[13] = 0: only the 13
entries with p > 13 are computed (TMAC_TABLE_SIZE = (27 - 1) / 2), and a pattern is stored
in 5 bits (TMAC_INDEX_WIDTH), i.e. 5/3 bits per weight.
"""
from __future__ import annotations

import numpy as np

GROUP = 3
PATTERNS = 3 ** GROUP          # 27
HALF = (PATTERNS - 1) // 2     # 13
INDEX_BITS = 5                 # bits stored per group of 3 weights
ZERO = HALF                    # the all-zero pattern


def _pad(x: np.ndarray) -> np.ndarray:
    """Zero-pad the last axis (K) to a multiple of 3 (TeLLMe pads 1536 to 1596)."""
    extra = -x.shape[-1] % GROUP
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, extra)]) if extra else x


def encode(w: np.ndarray) -> np.ndarray:
    """Ternary weights (N, K) -> patterns (N, ceil(K/3)) in [0, 27)."""
    w = _pad(np.asarray(w, dtype=np.int64))
    if np.any(np.abs(w) > 1):
        raise ValueError("ternary weights must be in {-1, 0, +1}")
    digits = w.reshape(w.shape[0], -1, GROUP) + 1
    return (digits * 3 ** np.arange(GROUP)).sum(axis=-1)


def pattern_weights() -> np.ndarray:
    """(27, 3) matrix: the weights w_j of each pattern."""
    p = np.arange(PATTERNS)[:, None]
    return (p // 3 ** np.arange(GROUP)) % 3 - 1


def half_tables(a: np.ndarray) -> np.ndarray:
    """(M, K/3, 13): T[14 + u] for u in 0..12, the only entries computed online."""
    groups = _pad(np.asarray(a)).reshape(a.shape[0], -1, GROUP)
    return groups @ pattern_weights()[ZERO + 1:].T.astype(groups.dtype)


def lookup(half: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    """T[p] from the half table: (M, G, 13), (N, G) -> (M, N, G)."""
    positive = patterns > ZERO
    entry = np.where(positive, patterns - ZERO - 1, np.maximum(ZERO - 1 - patterns, 0))
    values = half[:, np.arange(patterns.shape[1])[None, :], entry]
    return np.where(patterns[None] == ZERO, 0, np.where(positive[None], values, -values))


def ternary_matmul(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A (M, K) @ W.T for ternary W (N, K) by 13-entry half-table lookups; exact like lut_matmul."""
    a = np.asarray(a)
    acc_dtype = np.int64 if np.issubdtype(a.dtype, np.integer) else np.float64
    return lookup(half_tables(a.astype(acc_dtype)), encode(w)).sum(axis=-1)
