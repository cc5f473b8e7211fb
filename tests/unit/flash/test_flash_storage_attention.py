"""InstInfer CSD vs SSD offloading: attention time against the flash and PCIe closed forms."""
import copy

import pytest

from hwsim.engine import Simulator
from hwsim.machine import load_machine, machine_from_dict
from hwsim.step import simulate
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision

FP16 = Precision("fp16", "fp16", "fp16")


def attention_op(kv_bytes: float, flops: float = 0.0, act_in: float = 0.0):
    return Op(0, "attn_score", "attn_score", 0, flops, "fp16", act_in_bytes=act_in, kv_read_bytes=kv_bytes)


def run_alone(machine: str, op: Op) -> int:
    sim = Simulator()
    csd = load_machine(machine).build(sim)["csd"]
    finished = []
    csd.submit(op, lambda op, run: finished.append(run))
    sim.run()
    return finished[0].end_ps


def test_csd_streams_kv_at_the_channel_bound():
    g = load_machine("instinfer").build(Simulator())["csd"].params.flash
    assert g.channels * g.channel_bandwidth == pytest.approx(11.2e9)        # 8 x 1.4 GB/s (paper)
    pages = 16_000                                                            # 2000 per channel
    per_page = g.command_ps + g.transfer_ps(g.page_size)                      # bus time per page
    q = 1e6                                                                   # queries over PCIe 7 GB/s
    end = run_alone("instinfer", attention_op(pages * g.page_size, act_in=q))
    # channel-bound stream: pages / channels x bus time, plus the first tR, plus the queries' transfer
    assert end == pytest.approx(pages // g.channels * per_page + g.t_read_ps + q / 7e9 * 1e12, rel=1e-4)


def flexgen_round_ps() -> int:
    """One round of FlexGen's page-cache reads: 2 requests of 128 KiB = 8 pages of 32 KB, one per channel
    (command, tR, page transfer), then their 256 KiB over the SSD's PCIe 4.0 x4 (7 GB/s)."""
    g = load_machine("instinfer_flexgen_ssd").build(Simulator())["csd"].params.flash
    return g.command_ps + g.t_read_ps + g.transfer_ps(g.page_size) + round(8 * 32768 / 7e9 * 1e12)


def test_flexgen_reads_the_kv_cache_in_rounds_of_page_cache_requests():
    kv = 1000 * 128 * 1024                                                   # 1000 requests, 500 rounds
    assert run_alone("instinfer_flexgen_ssd", attention_op(kv)) == pytest.approx(500 * flexgen_round_ps(), rel=1e-6)
    assert 2 * 128 * 1024 / (flexgen_round_ps() * 1e-12) == pytest.approx(2.70e9, rel=0.01)   # effective B/s


def test_flexgen_needs_host_reads_exactly_without_in_storage_attention():
    data = copy.deepcopy(load_machine("instinfer_flexgen_ssd").spec.model_dump(mode="json"))
    data["components"]["csd"]["host_reads"] = None
    with pytest.raises(Exception, match="host_reads is needed exactly when"):
        machine_from_dict(data)


def test_sparf_reads_an_eighth_of_the_kv_cache():
    kv = 16_000 * 32 * 1024
    assert run_alone("instinfer_sparf", attention_op(kv)) < run_alone("instinfer", attention_op(kv)) / 7.5


def test_csd_rejects_non_attention_operators():
    sim = Simulator()
    csd = load_machine("instinfer").build(sim)["csd"]
    with pytest.raises(ValueError, match="decode attention"):
        csd.submit(Op(0, "qkv", "matmul", 0, 1.0, "fp16", weight_bytes=1.0), lambda *a: None)


@pytest.mark.parametrize("batch", [64, 256])
def test_opt13b_decode_speedup_is_the_ratio_of_kv_read_rates(batch):
    """OPT-13B, 1024/1024 tokens, decode step at the mean context 1536: attention dominates, so the
    dense speedup is about the CSD's channel-bound KV rate (11.2 GB/s x tR share) over FlexGen's
    page-cache rate (2 x 128 KiB per round)."""
    step = {m: simulate(m, "opt-13b", phase="decode", batch=batch, context=1536, precision=FP16).latency_s
            for m in ("instinfer", "instinfer_sparf", "instinfer_flexgen_ssd")}
    dense = step["instinfer_flexgen_ssd"] / step["instinfer"]
    sparse = step["instinfer_flexgen_ssd"] / step["instinfer_sparf"]
    flexgen_rate = 2 * 128 * 1024 / (flexgen_round_ps() * 1e-12)
    assert dense == pytest.approx(11.2e9 * 23.406 / (23.406 + 0.175) / flexgen_rate, rel=0.01)
    assert 7.5 * dense < sparse < 8 * dense


def test_two_csds_split_the_kv_stream_in_half():
    """Head-parallel over two drives: each channel streams half the pages (first tR and queries aside)."""
    kv = 16_000 * 32 * 1024
    one, two = run_alone("instinfer", attention_op(kv)), run_alone("instinfer_2csd", attention_op(kv))
    assert two == pytest.approx(one / 2, rel=0.01)
