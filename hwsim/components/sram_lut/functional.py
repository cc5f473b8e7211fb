"""Bit-serial LUT matmul: A @ Q.T computed with table lookups only, bit-exact.

An n-bit weight code q splits into bit planes b_i (T-MAC): q = sum_i c_i 2^i b_i, with c_i = +1,
except c_{n-1} = -1 for two's-complement (signed) codes. Each bit b in {0,1} is rewritten as
s = 2b - 1 in {-1,+1}, so for a group of g activations the table
    T[idx] = sum_j s_j(idx) a_j            (s_j = +1 where bit j of idx is set, else -1)
has 2^g entries and is odd-symmetric, T[~idx] = -T[idx]: only half of it is stored
(mirror consolidation / LUT Tensor Core's symmetrised table). Then
    2 * (a . q) = sum_i c_i 2^i (a . s_i) + (sum_i c_i 2^i) * sum_j a_j
and every a . s_i is a sum of table lookups indexed by g weight bits. With integer
activations everything is an integer; with fp16 activations float64 sums stay exact
(fp16 values are multiples of 2^-24 below 2^16, so K * 2^4 * 2^40 < 2^53 for K <= 512).
"""
from __future__ import annotations

import numpy as np


def plane_coefficients(bits: int, signed: bool) -> np.ndarray:
    """c_i 2^i for each bit plane i (the MSB plane is negative for two's-complement codes)."""
    coef = np.int64(1) << np.arange(bits, dtype=np.int64)
    if signed:
        coef[-1] = -coef[-1]
    return coef


def code_range(bits: int, signed: bool) -> tuple[int, int]:
    """Smallest and largest weight code of the format (inclusive)."""
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def bit_planes(q: np.ndarray, bits: int) -> np.ndarray:
    """Bit planes of integer codes q (any shape): array (bits, *q.shape) of 0/1 (two's complement)."""
    u = np.asarray(q, dtype=np.int64) & ((1 << bits) - 1)
    return ((u[None] >> np.arange(bits).reshape((-1,) + (1,) * u.ndim)) & 1).astype(np.uint8)


def group_indices(planes: np.ndarray, g: int) -> np.ndarray:
    """Pack g consecutive weight bits along the last axis (K) into table indices: (..., K/g)."""
    grouped = planes.reshape(planes.shape[:-1] + (-1, g)).astype(np.int64)
    return (grouped << np.arange(g)).sum(axis=-1)


def sign_patterns(g: int) -> np.ndarray:
    """(2^g, g) matrix of s_j(idx) in {-1,+1}."""
    idx = np.arange(1 << g)[:, None]
    return 2 * ((idx >> np.arange(g)) & 1) - 1


def full_tables(a: np.ndarray, g: int) -> np.ndarray:
    """Tables of every activation group: (M, K/g, 2^g), T[idx] = sum_j s_j(idx) a_j."""
    groups = a.reshape(a.shape[0], -1, g)
    return groups @ sign_patterns(g).T.astype(groups.dtype)


def half_tables(a: np.ndarray, g: int) -> np.ndarray:
    """The stored half: (M, K/g, 2^(g-1)), H[u] = T[u | 2^(g-1)] (MSB weight bit set)."""
    return full_tables(a, g)[..., 1 << (g - 1):]


def lookup_half(half: np.ndarray, idx: np.ndarray, g: int) -> np.ndarray:
    """T[idx] from the half table: H[idx & mask] when the MSB is set, else -H[~idx & mask].

    half: (M, G, 2^(g-1)); idx: (N, G) -> (M, N, G)."""
    mask = (1 << (g - 1)) - 1
    msb = (idx >> (g - 1)) & 1
    entry = np.where(msb == 1, idx & mask, ~idx & mask)
    groups = np.arange(idx.shape[1])
    values = half[:, groups[None, :], entry]          # (M, N, G)
    return np.where(msb[None] == 1, values, -values)


def lut_matmul(a: np.ndarray, q: np.ndarray, bits: int, *, signed: bool = False, g: int = 4,
               half: bool = True) -> np.ndarray:
    """A (M, K) @ Q.T (Q: (N, K) integer codes of `bits` bits) by table lookups; K % g == 0.

    Integer activations give int64 results, floating ones float64; both equal the plain matmul.
    """
    a = np.asarray(a)
    acc_dtype = np.int64 if np.issubdtype(a.dtype, np.integer) else np.float64
    a = a.astype(acc_dtype)
    if a.shape[1] % g:
        raise ValueError(f"K={a.shape[1]} is not a multiple of the group size g={g}")
    coef = plane_coefficients(bits, signed)
    indices = group_indices(bit_planes(q, bits), g)                      # (bits, N, K/g)
    if half:
        tables = half_tables(a, g)
        dots = np.stack([lookup_half(tables, indices[i], g).sum(axis=-1) for i in range(bits)])
    else:
        tables = full_tables(a, g)
        groups = np.arange(indices.shape[-1])
        dots = np.stack([tables[:, groups[None, :], indices[i]].sum(axis=-1) for i in range(bits)])
    twice = np.tensordot(coef.astype(acc_dtype), dots, axes=1) + coef.sum() * a.sum(axis=1)[:, None]
    return twice // 2 if acc_dtype is np.int64 else twice / 2


def quantize_tables(tables: np.ndarray, bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Per-table symmetric quantisation (T-MAC / LUT Tensor Core): int entries and one scale per table.

    tables: (..., entries) -> (int8 entries, scales (..., 1)) with tables ~= entries * scales."""
    top = (1 << (bits - 1)) - 1
    peak = np.abs(tables).max(axis=-1, keepdims=True).astype(np.float64)
    scale = np.where(peak > 0, peak / top, 1.0)
    return np.clip(np.rint(tables / scale), -top, top).astype(np.int8), scale


def lut_matmul_quantized(a: np.ndarray, q: np.ndarray, bits: int, *, signed: bool = False,
                         g: int = 4, table_bits: int = 8) -> np.ndarray:
    """lut_matmul with int8-quantised half tables (lossy; error <= bound_quantized)."""
    a = np.asarray(a, dtype=np.float64)
    entries, scale = quantize_tables(half_tables(a, g), table_bits)
    dequant = entries * scale
    coef = plane_coefficients(bits, signed).astype(np.float64)
    indices = group_indices(bit_planes(q, bits), g)
    dots = np.stack([lookup_half(dequant, indices[i], g).sum(axis=-1) for i in range(bits)])
    return (np.tensordot(coef, dots, axes=1) + coef.sum() * a.sum(axis=1)[:, None]) / 2


def bound_quantized(a: np.ndarray, bits: int, *, g: int = 4, table_bits: int = 8) -> np.ndarray:
    """Worst-case |error| of lut_matmul_quantized per row: half a step per lookup, weighted by planes."""
    _, scale = quantize_tables(half_tables(np.asarray(a, dtype=np.float64), g), table_bits)
    return 0.5 * scale[..., 0].sum(axis=1) * ((1 << bits) - 1) / 2
