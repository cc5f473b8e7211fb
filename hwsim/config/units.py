"""Physical quantities in config files: '1GHz', '0.5ns', '16KB', '900GB/s', '312TFLOPS'.

Every dimensioned field in a machine or model file carries its unit; a bare number is
rejected so that '900' never silently means bytes/s when the author meant GB/s.
Values parse to SI base units (Hz, seconds, bytes, bytes/s, ops/s, watts, joules).

Sizes follow the JEDEC memory convention: KB = KiB = 1024 bytes (a '16KB' SRAM holds
16384 bytes, an '80GB' HBM stack 80 GiB). Rates are decimal: '900GB/s' = 9e11 bytes/s,
'1GHz' = 1e9 Hz. Bits are written with a lower-case 'b' ('16Gb/s' = 2e9 bytes/s).

Every quantity must be finite and, unless its type says zero is meaningful, > 0: a zero clock,
bandwidth, rate or capacity has no physical meaning and would divide by zero downstream. The
non-negative variants (`Latency`, `ByteCount`, `Power`, `Energy`) are for amounts whose zero means
"none of it". A non-zero value must also lie in its kind's RANGE, many orders of magnitude around
any real part: outside it, it is a typo ('1e-300MT/s'), and its quotients (times of 10^300 s) would
overflow the integer-picosecond kernels instead of giving an error.
"""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z/%]*)\s*$")

_DECIMAL = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
_BINARY = {"": 1, "K": 1024, "Ki": 1024, "M": 1024**2, "Mi": 1024**2,
           "G": 1024**3, "Gi": 1024**3, "T": 1024**4, "Ti": 1024**4}
_SUBUNIT = {"": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}


def _table(prefixes: dict, suffixes: dict) -> dict[str, float]:
    return {p + s: pv * sv for p, pv in prefixes.items() for s, sv in suffixes.items()}


# unit string -> factor to the SI base unit, per kind of quantity
UNITS: dict[str, dict[str, float]] = {
    "frequency": _table(_DECIMAL, {"Hz": 1.0, "T/s": 1.0}),
    "time": {**_table(_SUBUNIT, {"s": 1.0}), "us": 1e-6},
    "size": {**_table(_BINARY, {"B": 1}), **_table(_BINARY, {"b": 1 / 8}), "B": 1},
    "bandwidth": {**_table(_DECIMAL, {"B/s": 1.0}), **_table(_DECIMAL, {"b/s": 1 / 8}),
                  **_table(_DECIMAL, {"bps": 1 / 8})},
    "compute": _table(_DECIMAL, {"FLOPS": 1.0, "OPS": 1.0, "FLOP/s": 1.0, "OP/s": 1.0}),
    "power": _table({**_SUBUNIT, "k": 1e3}, {"W": 1.0}),
    "energy": _table({**_SUBUNIT, "k": 1e3}, {"J": 1.0}),
}
EXAMPLES = {"frequency": "1GHz", "time": "0.5ns", "size": "16KB", "bandwidth": "900GB/s",
            "compute": "312TFLOPS", "power": "400W", "energy": "20pJ"}
BASE_UNIT = {"frequency": "Hz", "time": "s", "size": "B", "bandwidth": "B/s",
             "compute": "FLOP/s", "power": "W", "energy": "J"}
# plausible non-zero values per kind, in base units (inclusive)
RANGE = {"frequency": (1e3, 1e13), "time": (1e-15, 1e6), "size": (1, 1e21), "bandwidth": (1.0, 1e18),
         "compute": (1.0, 1e21), "power": (1e-12, 1e9), "energy": (1e-21, 1e3)}


def parse_quantity(value, kind: str) -> float:
    """Parse '900GB/s' (kind 'bandwidth') to 9e11. Raises ValueError with an example."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"must be a {kind} with a unit like '{EXAMPLES[kind]}', got {value!r}")
    if not isinstance(value, str):
        raise ValueError(f"needs a unit: write a {kind} like '{EXAMPLES[kind]}', got {value!r}")
    match = _NUMBER.match(value)
    if not match:
        raise ValueError(f"must be a {kind} like '{EXAMPLES[kind]}', got {value!r}")
    number, unit = float(match.group(1)), match.group(2)
    factors = UNITS[kind]
    if unit not in factors:
        if not unit:
            raise ValueError(f"needs a unit: write a {kind} like '{EXAMPLES[kind]}', got {value!r}")
        raise ValueError(f"unknown {kind} unit {unit!r} in {value!r} (e.g. '{EXAMPLES[kind]}')")
    if number < 0:
        raise ValueError(f"must not be negative, got {value!r}")
    return number * factors[unit]


def _quantity(kind: str, integer: bool = False, zero: bool = False):
    """A pydantic type for a `kind` quantity in base units; `zero` admits 0, else it must be > 0."""
    low, high = RANGE[kind]

    def parse(value):
        parsed = parse_quantity(value, kind)
        if parsed == 0 and not zero:
            raise ValueError(f"must be > 0, got {value!r}")
        if parsed != 0 and not low <= parsed <= high:
            raise ValueError(f"must be {'0 or ' if zero else ''}between {low:g} and {high:g} "
                             f"{BASE_UNIT[kind]}, got {value!r}")
        return int(round(parsed)) if integer else parsed

    def dump(value) -> str:
        return f"{value:g}{BASE_UNIT[kind]}"

    return Annotated[int if integer else float, BeforeValidator(parse), PlainSerializer(dump)]


Frequency = _quantity("frequency")                # Hz, > 0: a clock that never ticks times nothing
Duration = _quantity("time")                      # seconds, > 0: a step time (tR, a command's bus time)
Latency = _quantity("time", zero=True)            # seconds, >= 0: a latency or overhead; 0 means none
ByteSize = _quantity("size", True)                # bytes (KB = 1024), > 0: a capacity, width or unit
ByteCount = _quantity("size", True, zero=True)    # bytes, >= 0: an optional amount (header, private cache)
Bandwidth = _quantity("bandwidth")                # bytes per second, > 0
ComputeRate = _quantity("compute")                # operations per second, > 0
Power = _quantity("power", zero=True)             # watts, >= 0: 0 W is a part without that draw
Energy = _quantity("energy", zero=True)           # joules, >= 0: 0 J is an event not costed


def format_quantity(value: float, unit: str, digits: int = 3) -> str:
    """Human-readable engineering notation: format_quantity(2.039e12, 'B/s') -> '2.04 TB/s'."""
    if value == 0:
        return f"0 {unit}"
    for prefix, factor in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3),
                           ("", 1.0), ("m", 1e-3), ("u", 1e-6), ("n", 1e-9), ("p", 1e-12)):
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"
