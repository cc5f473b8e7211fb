"""Names an analytic device's parameters key by, checked: number formats and operator kinds."""
from __future__ import annotations

from hwsim.workload import precision
from hwsim.workload.ops import KINDS


def known_formats(rates: dict) -> dict:
    """`rates`, once every key is a known number format (else a ValueError naming it)."""
    for name in rates:
        precision.check(name)
    return rates


def known_kinds(by_kind: dict) -> dict:
    """`by_kind`, once every key is a known operator kind (else a ValueError listing the known ones)."""
    unknown = sorted(set(by_kind) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown operator kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
    return by_kind
