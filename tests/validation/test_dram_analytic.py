"""DRAM analytic checks (Ramulator 2.1 latency-throughput pattern) reproduced by simulation.

Each case of ``dram_analytic`` in the published targets (hwsim.validate.runner.load_targets) is simulated on the preset of the
same name; the formula is never evaluated here. Latency is to the first data beat (data done - nBL).
"""

import numpy as np
import pytest

from hwsim.components.dram.controller import simulate_stream
from hwsim.components.dram.measure import row_conflict_latency_ns, streaming_GBps
from hwsim.components.dram.presets import load_preset
from hwsim.validate.runner import load_targets

DRAM = load_targets()["dram_analytic"]
TOL = DRAM["tolerance"]
CASES = [pytest.param(c, id=c["preset"]) for c in DRAM["cases"]]


@pytest.mark.parametrize("case", CASES)
def test_unloaded_latency(case):
    spec = load_preset(case["preset"])
    assert abs(row_conflict_latency_ns(spec) - case["unloaded_latency_ns"]) <= TOL["latency_tck"] * spec.tCK_ps / 1000


@pytest.mark.parametrize("case", CASES)
def test_peak_bandwidth(case):
    got = streaming_GBps(load_preset(case["preset"]), refresh="none")
    assert got == pytest.approx(case["peak_GBps"], rel=TOL["bandwidth_rel"])


@pytest.mark.parametrize("case", CASES)
def test_bandwidth_with_refresh(case):
    got = streaming_GBps(load_preset(case["preset"]), refresh="all_bank")
    assert got == pytest.approx(case["achievable_GBps_with_refresh"], rel=TOL["bandwidth_rel"])


if __name__ == "__main__":                                  # the table for the report
    import time
    for c in DRAM["cases"]:
        s = load_preset(c["preset"])
        print(f"{c['preset']:12s} latency {row_conflict_latency_ns(s):6.2f}/{c['unloaded_latency_ns']:6.2f} ns  "
              f"peak {streaming_GBps(s, 'none'):6.2f}/{c['peak_GBps']:6.2f}  "
              f"refresh {streaming_GBps(s, 'all_bank'):6.2f}/{c['achievable_GBps_with_refresh']:6.2f} GB/s")
    spec = load_preset("DDR4_2400R")
    n = 10**6
    for label, addr in (("sequential", np.arange(n) * 64),
                        ("random", np.random.default_rng(0).integers(0, 1 << 30, n) // 64 * 64)):
        t0 = time.perf_counter()
        st = simulate_stream(spec, addr).stats
        dt = time.perf_counter() - t0
        cmds = sum(st.command_counts.values())
        print(f"DDR4_2400R {label} 1e6 reads: {cmds} commands in {dt:.2f} s = {cmds / dt / 1e6:.2f} M commands/s")
