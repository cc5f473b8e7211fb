"""CENT's command-level PIM behaviour (Yufeng98/CENT trace generation, arkhadem/aim_simulator AiM
controller): register-mode switches, MAC-register reuse, separately mapped matrices, keys over all
banks and softmax staged through the banks. Expected numbers are closed forms of those rules."""

import math

import numpy as np
import pytest

from hwsim.components.base import build_component
from hwsim.components.dram.pim_mapping import Layout, gemv_stream
from hwsim.components.dram.pim_stream import simulate_commands
from hwsim.components.dram.presets import load_preset
from hwsim.components.dram.spec import with_overrides
from hwsim.components.dram.standards import COMMANDS
from hwsim.config.loader import SourceMap
from hwsim.engine import Simulator
from hwsim.workload.ops import Op

AIM = load_preset("GDDR6_AiM")
LAYOUT = Layout(64, 16, 1024, 16, 4, pack_rows=False)
NAMES = np.array(COMMANDS)
SEQ = ["WR_GB", "ACT_ABK", "MAC_ABK", "MAC_ABK", "RD_MAC", "WR_GB", "PREA"]
ROWS = [-1, 3, 3, 3, -1, -1, -1]


def test_register_mode_switch_waits_nmodch_after_readiness():
    plain = simulate_commands(AIM, SEQ, row=ROWS, refresh=False).issue_cycle
    assert plain.tolist() == [0, 1, 57, 59, 61, 65, 71]                  # nMODCH 0: no switch
    tmod = simulate_commands(with_overrides(AIM, nMODCH=32), SEQ, row=ROWS, refresh=False).issue_cycle
    # WR_GB -> ACT_ABK 1 + 32; ACT -> MAC nRCDRDMAC 56; MAC -> RD_MAC nCCDL 2 + 32;
    # RD_MAC -> WR_GB nBL + 2 (same mode); WR_GB -> PREA 1 + 32
    assert tmod.tolist() == [0, 33, 89, 91, 125, 129, 162]


def test_mac_registers_defer_rd_mac_to_the_end_of_a_group():
    one = NAMES[gemv_stream(LAYOUT, 1024, 2).cmd].tolist()
    grouped = NAMES[gemv_stream(LAYOUT, 1024, 2, registers=32).cmd].tolist()
    macs = ["MAC_ABK"] * 64
    assert one == ["WR_GB"] * 64 + ["ACT_ABK"] + macs + ["RD_MAC", "PREA", "ACT_ABK"] + macs + ["RD_MAC", "PREA"]
    assert grouped == ["WR_GB"] * 64 + ["ACT_ABK"] + macs + ["PREA", "ACT_ABK"] + macs + ["RD_MAC"] * 2 + ["PREA"]


def test_registers_group_readouts_in_fixed_size_groups():
    cmd = NAMES[gemv_stream(LAYOUT, 64, 5, registers=2).cmd]
    rd_runs = [len(r) for r in "".join("R" if c == "RD_MAC" else "." for c in cmd).split(".") if r]
    assert rd_runs == [2, 2, 1]


def test_segment_reads_one_score_per_head_from_a_packed_row():
    # CENT's key: 40 heads x 128 = 5 GB chunks, one row each, 8 heads per row, an RD_MAC per head
    stream = gemv_stream(Layout(64, 16, 1024, 16, 4), 40 * 128, 1, segment=128)
    counts = {c: int((stream.cmd == COMMANDS.index(c)).sum()) for c in ("WR_GB", "ACT_ABK", "MAC_ABK", "RD_MAC")}
    assert counts == {"WR_GB": 320, "ACT_ABK": 5, "MAC_ABK": 320, "RD_MAC": 40}


CENT = {"type": "pim_dram", "source": "test", "preset": "GDDR6_AiM", "channels": 32, "devices": 20,
        "attention_devices": 1, "refresh": False, "reduction": {"clock": "2GHz", "lanes": 320},
        "link": {"latency": "240ns", "bandwidth": "22.55GB/s"}, "keys_over_banks": True,
        "separate_matrices": {"qkv": 3}, "staging": {"softmax": {"writes": 4, "reads": 2, "ewmul_passes": 2}}}


def device():
    sim = Simulator()
    return build_component("pim", CENT, SourceMap("<test>"), ("pim",), sim), sim


def test_keys_over_banks_use_one_bank_per_token_on_all_devices():
    pim, _ = device()
    op = Op(0, "attn_score", "attn_score", 0, 2.0 * 40 * 2305 * 128, "bf16", m=1, n=2305, k=128, count=40)
    [(stream, times)], active, partials = pim._plan(op)
    assert times == 1 and active == math.ceil(2305 / 16) and partials == 0
    assert int((stream.cmd == COMMANDS.index("RD_MAC")).sum()) == 40      # one key per bank: a score per head


def test_separate_matrices_are_mapped_one_by_one():
    pim, _ = device()
    op = Op(0, "qkv", "matmul", 0, 2.0 * 15360 * 5120, "bf16", m=1, n=15360, k=5120)
    [(stream, times)], _, _ = pim._plan(op)
    stream = stream.repeat(times)
    # Wq, Wk, Wv: 5120 columns over 10240 banks -> 1 per bank, 5 GB chunks of 64 columns each
    assert int((stream.cmd == COMMANDS.index("MAC_ABK")).sum()) == 3 * 5 * 64
    assert int((stream.cmd == COMMANDS.index("WR_GB")).sum()) == 3 * 5 * 64


def test_softmax_staging_is_dma_bound_host_bursts():
    pim, sim = device()
    heads, keys = 40, 2304
    op = Op(0, "softmax", "softmax", 0, 5.0 * heads * keys, "bf16", act_in_bytes=2.0 * heads * keys,
            act_out_bytes=2.0 * heads * keys)
    out = []
    pim.submit(op, lambda o, e: out.append(e))
    sim.run()
    bursts = heads * keys // 16
    staging_ps, counts = pim._staging(op)
    assert staging_ps == 6 * bursts * 500
    assert counts[COMMANDS.index("WR")] == 4 * bursts and counts[COMMANDS.index("RD")] == 2 * bursts
    assert out[0].end_ps - out[0].start_ps >= staging_ps + math.ceil(op.flops / 320) * 500


def test_softmax_exp_and_sums_run_on_the_shared_buffer_accelerator():
    heads, keys = 40, 2304
    op = Op(0, "softmax", "softmax", 0, 5.0 * heads * keys, "bf16", act_in_bytes=2.0 * heads * keys,
            act_out_bytes=2.0 * heads * keys, count=heads, m=1)
    ends = []
    for accelerator in (None, {"clock": "2GHz"}):
        raw = {**CENT, "staging": {"softmax": {**CENT["staging"]["softmax"], "accelerator": accelerator}}}
        sim = Simulator()
        pim = build_component("pim", raw, SourceMap("<test>"), ("pim",), sim)
        pim.submit(op, lambda o, e: ends.append(e.end_ps))
        sim.run()
    lanes_ps = math.ceil(op.flops / 320) * 500
    accel_ps = 20530 * 500                     # CENT's softmax formula at 2304 tokens, 40 heads
    assert ends[1] - ends[0] == accel_ps - lanes_ps


def test_sampling_follows_only_the_lm_head():
    ends = {}
    for name in ("lm_head", "o_proj"):
        for sampling in (None, "150us"):
            sim = Simulator()
            pim = build_component("pim", {**CENT, "sampling": sampling}, SourceMap("<test>"), ("pim",), sim)
            op = Op(0, name, "matmul", -1, 2.0 * 5120 * 5120, "bf16", act_in_bytes=10240.0,
                    act_out_bytes=10240.0, m=1, n=5120, k=5120)
            pim.submit(op, lambda o, e: ends.__setitem__((name, sampling), e.end_ps))
            sim.run()
    assert ends[("lm_head", "150us")] - ends[("lm_head", None)] == 150_000_000
    assert ends[("o_proj", "150us")] == ends[("o_proj", None)]


def context_op(heads, kv_heads, keys=2048, head_dim=128):
    return Op(0, "attn_context", "attn_context", 0, 2.0 * heads * keys * head_dim, "bf16",
              kv_read_bytes=2.0 * kv_heads * keys * head_dim, m=1, k=keys, n=head_dim, count=heads)


@pytest.mark.parametrize("heads, kv_heads, passes, channels", [(64, 8, 8, 8), (40, 40, 2, 32), (32, 32, 1, 32)])
def test_values_by_kv_head_pass_once_per_query_head(heads, kv_heads, passes, channels):
    """CENT: a KV head's V whole in one of the attention device's 32 channels; each query head of its
    group streams it again: passes = ceil(kv_heads / 32) x heads / kv_heads (Llama2-70B: 1 x 8)."""
    sim = Simulator()
    pim = build_component("pim", {**CENT, "values_by_kv_head": True}, SourceMap("<test>"), ("pim",), sim)
    [(stream, times)], active, _ = pim._plan(context_op(heads, kv_heads))
    assert (times, active) == (passes, channels)
    assert int((stream.cmd == COMMANDS.index("MAC_ABK")).sum()) == 2048 // 16 * 128 // 16   # all keys x 8 dims per bank


def test_without_values_by_kv_head_gqa_heads_share_the_channels():
    pim, _ = device()
    [(_, times)], active, _ = pim._plan(context_op(64, 8))
    assert (times, active) == (2, 32)                 # 64 query heads over 32 channels, keys not re-streamed


def test_values_by_kv_head_streams_a_varlen_op_as_whole_longest_heads_and_rejects_excess_bytes():
    pim = build_component("pim", {**CENT, "values_by_kv_head": True}, SourceMap("<test>"), ("pim",), Simulator())
    op = context_op(64, 8)

    def plan(kv_bytes):
        [(_, times)], active, _ = pim._plan(Op(0, "attn_context", "attn_context", 0, op.flops, "bf16",
                                               kv_read_bytes=kv_bytes, m=1, k=op.k, n=op.n, count=64))
        return times, active

    assert plan(op.kv_read_bytes * 7 / 8 + 2) == plan(op.kv_read_bytes)   # 7 heads and a bit: 8 padded heads
    with pytest.raises(ValueError, match="not KV heads"):
        plan(op.kv_read_bytes * 9)
