"""The pim_dram component: an op's time is its busiest channel's simulated stream, energy is the
preset's per-command energies times the commands, tensor parallelism adds the link transfers."""

import math

import pytest

from hwsim.components.base import build_component
from hwsim.components.dram.pim_mapping import gemv_stream
from hwsim.components.dram.pim_stream import simulate_commands
from hwsim.components.dram.standards import COMMANDS
from hwsim.config.loader import SourceMap
from hwsim.engine import Simulator
from hwsim.workload.ops import Op

PIM = {"type": "pim_dram", "source": "test", "preset": "GDDR6_AiM", "channels": 8, "refresh": False,
       "reduction": {"clock": "1GHz", "lanes": 128}}


def run(op, **overrides):
    sim = Simulator()
    pim = build_component("pim", {**PIM, **overrides}, SourceMap("<test>"), ("pim",), sim)
    out = []
    pim.submit(op, lambda o, e: out.append(e))
    sim.run()
    return pim, out[0]


def gemv(n, k, dtype="bf16", act_in=0.0, act_out=0.0):
    return Op(0, "fc", "matmul", 0, 2.0 * n * k, dtype, weight_bytes=2.0 * n * k, act_in_bytes=act_in,
              act_out_bytes=act_out, m=1, n=n, k=k)


def test_gemv_time_and_energy_are_the_busiest_channel_stream():
    pim, run_ = run(gemv(n=1024, k=768))
    stream = gemv_stream(pim._layout("bf16"), 768, 1024 // 8 // 16)
    res = simulate_commands(pim.spec, stream.cmd, 0, stream.bankgroup, stream.bank, stream.row, refresh=False)
    assert run_.end_ps == res.done_cycle * pim.spec.tCK_ps        # one chunk: no partial sums to add
    e = pim.spec.energy
    dynamic = sum(res.command_counts[c] * e.get(c, 0) for c in COMMANDS) * 8 * 1e-12
    standby = (e["background_active_mW"] - e["background_precharged_mW"]) * 1e-3 * res.open_cycles * 500e-12 * 8
    assert run_.energy_j == pytest.approx(dynamic + standby)
    assert pim.statistics()["row_hit_rate"] == pytest.approx(1 - res.command_counts["ACT_ABK"] / res.command_counts["MAC_ABK"])


def test_partial_sums_of_long_inputs_go_to_the_host_adders():
    pim, run_ = run(gemv(n=1024, k=3072))
    partials = 1024 * (3 - 1)                                     # 3 global-buffer chunks per output
    assert pim.statistics()["reduction_s"] == pytest.approx(math.ceil(partials / 128) * 1e-9)


def test_tensor_parallel_link_transfers():
    link = {"latency": "500ns", "bandwidth": "10GB/s"}
    one, r1 = run(gemv(n=4096, k=1024, act_in=2048, act_out=8192), devices=2, link=link)
    assert one.statistics()["link_s"] == pytest.approx(2 * 500e-9 + (2048 + 8192) / 10e9, rel=1e-6)


def test_rejects_formats_the_mac_units_do_not_run():
    with pytest.raises(ValueError, match="bf16"):
        run(gemv(64, 64, dtype="fp32"), formats=["bf16"])


def test_vector_ops_are_not_pim_ops():
    with pytest.raises(ValueError, match="host component"):
        run(Op(0, "softmax", "softmax", 0, 100.0, "bf16"))


def test_attention_confined_to_some_devices_spreads_heads_over_their_channels_only():
    """8 heads on 2 devices x 8 channels: all 16 channels give 1 head per channel (each head's 64 keys
    split over 2 channels); on one device each channel computes a whole head: twice the keys."""
    score = Op(0, "attn_score", "attn_score", 0, 2.0 * 8 * 64 * 128, "bf16", kv_read_bytes=2.0 * 8 * 64 * 128,
               m=1, n=64, k=128, count=8)
    link = {"latency": "500ns", "bandwidth": "10GB/s"}
    spread, r_spread = run(score, devices=2, link=link)
    confined, r_confined = run(score, devices=2, link=link, attention_devices=1)
    layout = spread._layout("bf16")
    for pim, result, keys in ((spread, r_spread, 32), (confined, r_confined, 64)):
        stream = gemv_stream(layout, 128, math.ceil(keys / 16))
        res = simulate_commands(pim.spec, stream.cmd, 0, stream.bankgroup, stream.bank, stream.row, refresh=False)
        assert result.end_ps == res.done_cycle * pim.spec.tCK_ps
    with pytest.raises(ValueError, match="attention_devices"):
        run(score, devices=2, link=link, attention_devices=3)



def test_refreshes_due_while_idle_cost_a_later_op_nothing():
    """A channel idle for many tREFI (a later pipeline stage waiting for the earlier ones) refreshed
    while idle: an op submitted then takes what it takes at time 0 give or take one refresh, not one REF
    per interval missed."""
    def submitted_at(idle_ps):
        sim = Simulator()
        pim = build_component("pim", {**PIM, "refresh": True}, SourceMap("<test>"), ("pim",), sim)
        out = []
        sim.schedule_at(idle_ps, lambda: pim.submit(gemv(n=1024, k=768), lambda o, e: out.append(e)))
        sim.run()
        return pim, out[0].end_ps - out[0].start_ps, pim.statistics().get("cmd_REF", 0)
    pim, at_zero, refs_at_zero = submitted_at(0)
    spec = pim.spec
    _, later, refs_later = submitted_at(1000 * spec["nREFI"] * spec.tCK_ps)
    assert refs_later <= refs_at_zero + PIM["channels"]            # at most one more REF per channel
    assert abs(later - at_zero) <= (spec["nRFC"] + spec["nRPab"] + spec["nRCD"]) * spec.tCK_ps
