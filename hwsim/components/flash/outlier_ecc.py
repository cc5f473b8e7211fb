"""Cambricon-LLM on-die outlier ECC, functional (arXiv 2409.15654 section V; lut_flash.md B1).

Only the largest-magnitude 1% of a page's INT8 weights matter much to a GEMV, so only they are
protected, in the page's spare area: per protected value a 14-bit address with a 5-bit Hamming
code (single-error correcting) and 2 copies of the 8-bit value, decoded by a bit-wise majority
of the copies and the value in the page; plus the outlier threshold stored 9 times (majority).
A read value above the threshold that is not protected must be a bit error and is truncated to 0.
Spare use: 163 x (14 + 5 + 2 x 8) bits + 9 x 8 bits = 722 B for a 16 KB page.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ADDRESS_BITS, PARITY_BITS, COPIES, THRESHOLD_COPIES = 14, 5, 2, 9
_POSITIONS = np.arange(1, ADDRESS_BITS + PARITY_BITS + 1)                  # Hamming positions 1..19
_IS_PARITY = (_POSITIONS & (_POSITIONS - 1)) == 0
_H = ((_POSITIONS[None, :] >> np.arange(PARITY_BITS)[:, None]) & 1).astype(np.uint8)   # 5 x 19


def protected_count(page_values: int, fraction: float = 0.01) -> int:
    return int(page_values * fraction)


def spare_bytes(page_values: int, fraction: float = 0.01) -> int:
    """Spare-area bytes the scheme needs per page (722 for 16384 values)."""
    bits = protected_count(page_values, fraction) * (ADDRESS_BITS + PARITY_BITS + COPIES * 8) + THRESHOLD_COPIES * 8
    return -(-bits // 8)


def protected_flip_rate(rber: float) -> float:
    """A protected bit is wrong when >= 2 of its 3 votes flip: 3x^2 - 2x^3 (about 3x^2)."""
    return 3 * rber**2 - 2 * rber**3


def _bits(values: np.ndarray, width: int) -> np.ndarray:
    return ((values.astype(np.int64)[:, None] >> np.arange(width)) & 1).astype(np.uint8)


def _value(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.int64) << np.arange(bits.shape[1])).sum(1)


def hamming_encode(addresses: np.ndarray) -> np.ndarray:
    """Codewords (n x 19 bits) of 14-bit addresses."""
    code = np.zeros((addresses.size, _POSITIONS.size), np.uint8)
    code[:, ~_IS_PARITY] = _bits(addresses, ADDRESS_BITS)
    code[:, _IS_PARITY] = (code @ _H.T) % 2            # parity bit 2^i makes syndrome bit i zero
    return code


def hamming_decode(code: np.ndarray) -> np.ndarray:
    """Addresses from codewords, correcting one flipped bit per word."""
    code = code.copy()
    syndrome = _value((code @ _H.T) % 2)
    rows = np.nonzero(syndrome)[0]
    code[rows, syndrome[rows] - 1] ^= 1
    return _value(code[:, ~_IS_PARITY])


@dataclass
class SpareArea:
    """What the scheme writes in a page's spare area (as bits, so errors can be injected)."""

    addresses: np.ndarray      # n x 19 Hamming codewords
    copies: np.ndarray         # COPIES x n x 8 value bits
    threshold: np.ndarray      # THRESHOLD_COPIES x 8 bits of the (unsigned) magnitude threshold


def _magnitude(values: np.ndarray) -> np.ndarray:
    return np.abs(values.astype(np.int16))


def protect(page: np.ndarray, fraction: float = 0.01) -> SpareArea:
    """Spare-area contents for an int8 page: its top `fraction` values by magnitude."""
    n = protected_count(page.size, fraction)
    top = np.sort(np.argsort(_magnitude(page), kind="stable")[page.size - n:])
    raw = page.view(np.uint8)[top]
    threshold = int(_magnitude(page[top]).min()) if n else 128
    return SpareArea(hamming_encode(top), np.stack([_bits(raw, 8)] * COPIES),
                     np.stack([_bits(np.array([threshold]), 8)[0]] * THRESHOLD_COPIES))


def flip_bits(bits: np.ndarray, rber: float, rng: np.random.Generator) -> np.ndarray:
    """`bits` (0/1 array) with each bit flipped independently with probability `rber`."""
    return bits ^ (rng.random(bits.shape) < rber).astype(bits.dtype)


def corrupt_page(page: np.ndarray, rber: float, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(page.view(np.uint8))
    return np.packbits(flip_bits(bits, rber, rng)).view(np.int8)


def corrupt_spare(spare: SpareArea, rber: float, rng: np.random.Generator) -> SpareArea:
    return SpareArea(flip_bits(spare.addresses, rber, rng), flip_bits(spare.copies, rber, rng),
                     flip_bits(spare.threshold, rber, rng))


def correct(read: np.ndarray, spare: SpareArea) -> np.ndarray:
    """The page as the die's ECC unit hands it to the core: outliers voted, impostors zeroed."""
    out = read.copy()
    threshold = _value((spare.threshold.sum(0, keepdims=True) * 2 > THRESHOLD_COPIES).astype(np.uint8))[0]
    addresses = hamming_decode(spare.addresses) % read.size
    in_page = _bits(read.view(np.uint8)[addresses], 8)
    votes = in_page.astype(np.int16) + spare.copies.sum(0)
    voted = _value((votes * 2 > COPIES + 1).astype(np.uint8)).astype(np.uint8).view(np.int8)
    impostor = _magnitude(out) > threshold
    impostor[addresses] = False
    out[impostor] = 0
    out[addresses] = voted
    return out
