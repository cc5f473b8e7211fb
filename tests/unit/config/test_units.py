"""Quantities with units parse to SI base units; missing or wrong units are errors."""
import re

import pytest
from pydantic import TypeAdapter, ValidationError

from hwsim.config.units import (Bandwidth, ByteCount, ByteSize, Energy, Frequency, Latency, Power, format_quantity,
                                parse_quantity)


@pytest.mark.parametrize("text, kind, expected", [
    ("1GHz", "frequency", 1e9), ("1.41 GHz", "frequency", 1.41e9), ("1000MT/s", "frequency", 1e9),
    ("0.5ns", "time", 0.5e-9), ("30us", "time", 30e-6), ("570ps", "time", 570e-12), ("2ms", "time", 2e-3),
    ("16KB", "size", 16384), ("16KiB", "size", 16384), ("80GB", "size", 80 * 2**30), ("8Gb", "size", 2**30),
    ("512B", "size", 512),
    ("900GB/s", "bandwidth", 9e11), ("3.35TB/s", "bandwidth", 3.35e12), ("16Gb/s", "bandwidth", 2e9),
    ("312TFLOPS", "compute", 312e12), ("624TOPS", "compute", 624e12),
    ("400W", "power", 400.0), ("195mW", "power", 0.195), ("20pJ", "energy", 20e-12),
])
def test_parses_to_base_units(text, kind, expected):
    assert parse_quantity(text, kind) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("value, kind, message", [
    (900, "bandwidth", "needs a unit: write a bandwidth like '900GB/s', got 900"),
    ("900", "bandwidth", "needs a unit: write a bandwidth like '900GB/s', got '900'"),
    ("1GB", "bandwidth", "unknown bandwidth unit 'GB' in '1GB' (e.g. '900GB/s')"),
    ("fast", "frequency", "must be a frequency like '1GHz', got 'fast'"),
    ("-3ns", "time", "must not be negative, got '-3ns'"),
    (True, "power", "must be a power with a unit like '400W', got True"),
])
def test_rejects_bad_quantities(value, kind, message):
    with pytest.raises(ValueError) as info:
        parse_quantity(value, kind)
    assert str(info.value) == message


def test_format_quantity():
    assert format_quantity(2.039e12, "B/s") == "2.04 TB/s"
    assert format_quantity(1.5e-3, "s") == "1.5 ms"
    assert format_quantity(0, "J") == "0 J"


@pytest.mark.parametrize("kind_type, value, message", [
    (Bandwidth, "0GB/s", "must be > 0, got '0GB/s'"),
    (Frequency, "0GHz", "must be > 0, got '0GHz'"),
    (ByteSize, "0.4B", "must be between 1 and 1e+21 B, got '0.4B'"),
    (Bandwidth, "1e999GB/s", "must be between 1 and 1e+18 B/s, got '1e999GB/s'"),
    (Frequency, "1e-300MT/s", "must be between 1000 and 1e+13 Hz, got '1e-300MT/s'"),
    (Latency, "1e300ns", "must be 0 or between 1e-15 and 1e+06 s, got '1e300ns'"),
])
def test_quantity_types_reject_zero_and_implausible_values(kind_type, value, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        TypeAdapter(kind_type).validate_python(value)


@pytest.mark.parametrize("kind_type, value", [(Latency, "0s"), (ByteCount, "0B"), (Power, "0W"), (Energy, "0J")])
def test_zero_is_meaningful_for_latencies_optional_bytes_power_and_energy(kind_type, value):
    assert TypeAdapter(kind_type).validate_python(value) == 0
