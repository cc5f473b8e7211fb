"""Physical byte address <-> (channel, rank, bank group, bank, row, column) by a named bit layout.

A scheme lists fields from most to least significant bit, Ramulator style: ``RoBaRaCoCh`` puts the row
in the top bits and the channel just above the burst offset. Fields: Ro row, Co column (burst index
within a row), Ba bank, Bg bank group, Ra rank, Ch channel (an HBM pseudo-channel is a channel). If a
scheme has no ``Bg`` field, ``Ba`` holds the flat bank index ``bankgroup * banks_per_group + bank``.
The lowest log2(burst_bytes) bits address bytes inside one burst and are ignored.
"""

from __future__ import annotations

import numpy as np

from .spec import Organization

SCHEMES = ("RoBaRaCoCh", "RoCoBaBgRaCh", "RoRaBgBaCoCh")
FIELD_NAMES = {"Ro": "row", "Co": "column", "Ba": "bank", "Bg": "bankgroup", "Ra": "rank", "Ch": "channel"}


def _field_sizes(org: Organization, scheme: str) -> list[tuple[str, int]]:
    tokens = [scheme[i:i + 2] for i in range(0, len(scheme), 2)]
    if sorted(tokens) != sorted(set(tokens)) or any(t not in FIELD_NAMES for t in tokens) \
            or not {"Ro", "Co", "Ba", "Ra", "Ch"} <= set(tokens):
        raise ValueError(f"address mapping {scheme!r}: need each of Ro Co Ba Ra Ch once (Bg optional), "
                         f"e.g. one of {SCHEMES}")
    sizes = {"Ro": org.rows, "Co": org.bursts_per_row, "Ra": org.ranks,
             "Ch": org.channels * org.pseudo_channels,
             "Ba": org.banks_per_group if "Bg" in tokens else org.banks_per_rank, "Bg": org.bankgroups}
    for token, size in sizes.items():
        if size & (size - 1):
            raise ValueError(f"address mapping {scheme!r}: {FIELD_NAMES[token]} count {size} is not a power of two")
    return [(t, sizes[t]) for t in tokens]


def _offset_bits(org: Organization) -> int:
    if org.burst_bytes & (org.burst_bytes - 1):
        raise ValueError(f"burst of {org.burst_bytes} bytes is not a power of two")
    return org.burst_bytes.bit_length() - 1


def decode(addresses, org: Organization, scheme: str) -> dict[str, np.ndarray]:
    """Split byte addresses (int64 array) into per-field index arrays."""
    a = np.asarray(addresses, dtype=np.int64) >> _offset_bits(org)
    out = {}
    for token, size in reversed(_field_sizes(org, scheme)):
        out[FIELD_NAMES[token]] = a & (size - 1)
        a = a >> (size.bit_length() - 1)
    if "bankgroup" not in out:
        out["bankgroup"], out["bank"] = np.divmod(out["bank"], org.banks_per_group)
    return out


def encode(fields: dict, org: Organization, scheme: str) -> np.ndarray:
    """Inverse of :func:`decode`: the byte address of the first byte of each burst."""
    sizes = _field_sizes(org, scheme)
    values = dict(fields)
    if all(t != "Bg" for t, _ in sizes):
        values["bank"] = np.asarray(values["bankgroup"]) * org.banks_per_group + np.asarray(values["bank"])
    a = np.zeros(np.shape(values["row"]), dtype=np.int64)
    for token, size in sizes:
        a = (a << (size.bit_length() - 1)) | np.asarray(values[FIELD_NAMES[token]], dtype=np.int64)
    return a << _offset_bits(org)
