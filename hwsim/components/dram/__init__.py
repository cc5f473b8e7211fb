"""DRAM core: standards as data, checked presets, address mapping and a cycle-exact numba controller.

    spec = load_preset("HBM3_6400")                      # or with_overrides(spec, nRCD=32)
    res = simulate_stream(spec, byte_addresses, is_write, arrival_cycle, refresh="all_bank")
    res.done_cycle, res.stats.bandwidth_GBps, res.channels[0].log
"""

from .address_mapping import SCHEMES, decode, encode
from .controller import CommandLog, ChannelResult, StreamResult, StreamStats, simulate_channel, simulate_stream
from .presets import load_preset, load_spec_file, preset_names
from .spec import DramSpec, Organization, with_overrides
from .standards import COMMANDS, STANDARDS, Standard, TimingConstraint

__all__ = [
    "SCHEMES", "decode", "encode", "CommandLog", "ChannelResult", "StreamResult", "StreamStats",
    "simulate_channel", "simulate_stream", "load_preset", "load_spec_file", "preset_names", "DramSpec",
    "Organization", "with_overrides", "COMMANDS", "STANDARDS", "Standard", "TimingConstraint",
]
