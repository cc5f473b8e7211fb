"""Preemption by swapping: KV blocks go to a host pool and come back whole, each move costing the
link's latency plus bytes over its bandwidth, and nothing is recomputed or lost."""
import pytest

from hwsim.components.interconnect.link import LinkSpec
from hwsim.serving.disaggregated import serve_disaggregated
from hwsim.serving.kv import BlockManager
from hwsim.serving.requests import Request
from hwsim.serving.schedulers import make_scheduler
from hwsim.serving.serve import serve
from hwsim.serving.state import Live
from hwsim.serving.transfer import transfer_s

MiB = 2 ** 20


def test_a_transfer_takes_latency_plus_bytes_over_bandwidth():
    assert transfer_s("pcie5_x16", 2 ** 30) == 2 ** 30 / 64e9
    link = LinkSpec(source="test", bandwidth="100GB/s", sustained="80GB/s", latency="2us")
    assert transfer_s(link, 8 * MiB) == pytest.approx(2e-6 + 8 * MiB / 80e9, rel=1e-15)
    assert transfer_s(link, 0) == 0.0


def test_swapped_blocks_leave_the_device_and_come_back_whole():
    kv = BlockManager(160, block_size=16, watermark=0.0, host_blocks=3)
    kv.grow(1, 40)                                   # 3 blocks
    kv.grow(2, 20)                                   # 2 blocks
    assert kv.can_swap_out(1) and kv.swap_out(1) == 3 and kv.used == 2 and kv.swapped == {1: 3}
    assert not kv.can_swap_out(2)                    # the host pool is full
    assert kv.swap_in(1) == 3 and kv.held[1] == 3 and kv.used == 5 and not kv.swapped


def test_an_unknown_preemption_gets_a_did_you_mean():
    with pytest.raises(ValueError, match="unknown preemption 'swp' \\(did you mean 'swap'\\?\\)"):
        make_scheduler("continuous", preemption="swp")


@pytest.mark.parametrize("scheduler", ["continuous", "chunked"])
def test_swapping_recomputes_nothing_and_waits_for_every_move(formula, scheduler):
    """Formula cost: 1 J per computed token, so energy counts the tokens computed."""
    kw = dict(n=60, rate=50.0, prompt="uniform:20:120", output="uniform:20:80", kv_tokens=1_600,
              scheduler=scheduler, block_size=16)
    swapped = serve(cost=formula(), preemption="swap", swap_link="pcie4_x16", **kw)
    recomputed = serve(cost=formula(), **kw)
    s, r = swapped.summary(), recomputed.summary()
    assert s["completed"] == 60 and s["preemptions"] > 0 and s["swap"]["blocks"] > 0
    needed = sum(live.request.prompt + live.request.output - 1 for live in swapped.lives)
    assert s["energy_j"] == needed < r["energy_j"]            # recompute prefills again, swapping does not
    block_bytes = 16 * 512 * 1024                             # Llama-2-7B: 512 KiB per token (serving.md 4)
    assert s["swap"]["stall_s"] == pytest.approx(s["swap"]["blocks"] * block_bytes / 32e9, rel=1e-12)
    assert all(live.generated == live.request.output for live in swapped.lives)


def test_disaggregation_moves_each_kv_in_latency_plus_bytes_over_bandwidth(formula):
    """Formula cost on both pools: prefill 0.1 + 0.01 x 100 s, then the KV of 100 tokens crosses the
    link, then 4 decode iterations of 0.11 s (5 output tokens: the prefill gave the first)."""
    from hwsim.components.interconnect.presets import link_preset
    report = serve(cost=formula(), decode_cost=formula(), kv_link="roce_400g", n=1, rate=1.0,
                   arrival="constant", prompt="fixed:100", output="fixed:5", kv_tokens=10_000)
    (live,) = report.lives
    link = link_preset("roce_400g")
    transfer = link.latency + 100 * 512 * 1024 / (link.sustained or link.bandwidth)
    assert report.summary()["kv_transfer_s"] == pytest.approx(transfer, rel=1e-12)
    assert report.ttft(live) == pytest.approx(1.1, rel=1e-12)
    assert live.finish_s - live.request.arrival_s == pytest.approx(1.1 + transfer + 4 * 0.11, rel=1e-12)
    assert live.generated == 5 and report.summary()["completed"] == 1


def test_a_request_the_decode_pool_cannot_hold_is_rejected_before_its_prefill(formula):
    lives = [Live(Request(0, 0.0, 1, 17)), Live(Request(1, 0.0, 4, 4))]
    pools = [[(make_scheduler("chunked"), BlockManager(tokens, 8, watermark=0.0), formula())]
             for tokens in (1_000, 16)]
    timeline, transfers = serve_disaggregated(lives, pools, 1024.0, "roce_400g", 4096)
    big, small = lives
    assert "needs 3 KV blocks" in big.rejected and big.first_token_s is None and big.generated == 0
    assert transfers[0] == 0.0 < transfers[1] and small.generated == 4 and not small.rejected
    assert timeline.tokens[0] == 4                                   # the first prefill is the small prompt's
