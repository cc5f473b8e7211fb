"""dram_analytic: unloaded latency, peak and refresh-limited bandwidth of one channel per preset,
simulated command by command and compared with the closed forms' published values."""
from __future__ import annotations

from hwsim.validate.runner import Row, check, within


@check("dram_analytic")
def dram_analytic(group: dict) -> list[Row]:
    from hwsim.components.dram.measure import row_conflict_latency_ns, streaming_GBps
    from hwsim.components.dram.presets import load_preset

    tolerance = group["tolerance"]
    rows = []
    for case in group["cases"]:
        spec = load_preset(case["preset"])
        latency = row_conflict_latency_ns(spec)
        tck_ns = spec.tCK_ps / 1000
        slack = tolerance["latency_tck"] * tck_ns
        rows.append(within(f"{case['preset']} unloaded latency", case["unloaded_latency_ns"], latency, "ns",
                           case["unloaded_latency_ns"] - slack, case["unloaded_latency_ns"] + slack,
                           f"+-{tolerance['latency_tck']} tCK"))
        for label, refresh, key in (("peak bandwidth", "none", "peak_GBps"),
                                    ("bandwidth with refresh", "all_bank", "achievable_GBps_with_refresh")):
            got = streaming_GBps(spec, refresh)
            rel = tolerance["bandwidth_rel"]
            rows.append(within(f"{case['preset']} {label}", case[key], got, "GB/s", case[key] * (1 - rel),
                               case[key] * (1 + rel), f"+-{rel:.0%}"))
    return rows
