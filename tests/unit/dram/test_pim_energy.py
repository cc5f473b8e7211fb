"""PIM DRAM energy: per op, the commands of every active channel (refresh excluded) plus open-row
standby above precharged standby plus link bits; static, every channel's precharged standby and one
REF per tREFI over the whole run. Expected numbers are closed forms of the preset's figures."""

import pytest

from hwsim.components.base import build_component
from hwsim.components.dram.pim_mapping import gemv_stream
from hwsim.components.dram.pim_stream import simulate_commands
from hwsim.components.dram.presets import load_preset
from hwsim.components.dram.standards import COMMANDS
from hwsim.config.loader import SourceMap
from hwsim.engine import Simulator
from hwsim.workload.ops import Op

AIM = load_preset("GDDR6_AiM")
TCK_S = 500e-12
PIM = {"type": "pim_dram", "source": "test", "preset": "GDDR6_AiM", "channels": 8,
       "reduction": {"clock": "1GHz", "lanes": 128}}


def build(**overrides):
    sim = Simulator()
    return sim, build_component("pim", {**PIM, **overrides}, SourceMap("<test>"), ("pim",), sim)


def run(op, **overrides):
    sim, pim = build(**overrides)
    out = []
    pim.submit(op, lambda o, e: out.append(e))
    sim.run()
    return pim, out[0]


def gemv(n, k, act_in=0.0, act_out=0.0):
    return Op(0, "fc", "matmul", 0, 2.0 * n * k, "bf16", weight_bytes=2.0 * n * k, act_in_bytes=act_in,
              act_out_bytes=act_out, m=1, n=n, k=k)


def test_refresh_energy_is_dramsim3_current_above_standby():
    """DRAMsim3 GDDR6_8Gb_x16.ini and its formula: (IDD5AB 286 - IDD3N 61 mA) x 1.35 V x tRFC 105 ns."""
    assert AIM.energy["REF"] == pytest.approx(225 * 1.35 * 105)
    assert AIM["nRFC"] * AIM.tCK_ps == 105_000


def test_op_energy_excludes_the_refreshes_it_runs_into():
    """A stream long enough to meet refreshes: they cost time, their energy is static."""
    pim, result = run(gemv(n=8 * 16 * 64, k=1024))
    stream = gemv_stream(pim._layout("bf16"), 1024, 64)
    res = simulate_commands(AIM, stream.cmd, 0, stream.bankgroup, stream.bank, stream.row)
    assert res.command_counts["REF"] > 0
    assert result.end_ps == res.done_cycle * AIM.tCK_ps
    e = AIM.energy
    commands = sum(n * e.get(c, 0) for c, n in res.command_counts.items() if c != "REF") * 8 * 1e-12
    open_rows = (e["background_active_mW"] - e["background_precharged_mW"]) * 1e-3 * res.open_cycles * TCK_S * 8
    assert result.energy_j == pytest.approx(commands + open_rows)
    stats = pim.statistics()
    assert stats["cmd_REF"] == res.command_counts["REF"] * 8
    assert stats["command_energy_j"] == pytest.approx(commands)
    assert stats["open_row_energy_j"] == pytest.approx(open_rows)
    assert stats["link_energy_j"] == 0


def test_link_energy_is_broadcast_to_every_device_plus_gather():
    link = {"latency": "100ns", "bandwidth": "10GB/s", "energy_per_bit": "4.4pJ"}
    pim, result = run(gemv(n=4096, k=1024, act_in=2048, act_out=8192), devices=2, link=link, refresh=False)
    stats = pim.statistics()
    assert stats["link_energy_j"] == pytest.approx((2048 * 2 + 8192) * 8 * 4.4e-12)
    assert result.energy_j == pytest.approx(stats["command_energy_j"] + stats["open_row_energy_j"]
                                            + stats["link_energy_j"])


def test_static_energy_is_every_channels_precharged_standby_and_refresh():
    """16 channels for 1 ms: 183.15 mW each, and 1 ms / (3333 x 0.5 ns) REFs each of 31.89375 nJ."""
    _, pim = build(devices=2, link={"latency": "100ns", "bandwidth": "10GB/s"})
    parts = pim.static_energy_breakdown_j(1e-3)
    assert parts["precharged_standby"] == pytest.approx(0.18315 * 16 * 1e-3)
    assert parts["refresh"] == pytest.approx(16 * 1e-3 / (3333 * 0.5e-9) * 31893.75e-12)
    assert pim.static_energy_j(1e-3) == pytest.approx(sum(parts.values()))
    _, quiet = build(devices=2, link={"latency": "100ns", "bandwidth": "10GB/s"}, refresh=False)
    assert quiet.static_energy_breakdown_j(1e-3) == {"precharged_standby": parts["precharged_standby"],
                                                    "refresh": 0}


def test_run_energy_is_op_energy_plus_static_energy():
    """simulate(): the report's energy is the ops' energies plus every component's static energy over
    the run, and the pim ops' energies are the component's tallies."""
    from hwsim.machine import load_machine
    from hwsim.step import simulate
    from hwsim.workload.precision import Precision
    report = simulate("pim_gpt", "gpt2-small", context=64, precision=Precision("bf16", "bf16", "bf16"))
    stats = report.components["pim"]
    pim_ops = sum(r.energy_j for r in report.ops if r.component == "pim")
    assert pim_ops == pytest.approx(stats["command_energy_j"] + stats["open_row_energy_j"] + stats["link_energy_j"])
    static = sum(c.static_energy_j(report.latency_s) for c in load_machine("pim_gpt").build(Simulator()).values())
    assert report.energy_j == pytest.approx(sum(r.energy_j for r in report.ops) + static)
