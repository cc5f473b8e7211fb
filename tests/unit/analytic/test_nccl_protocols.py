"""link_fabric `protocols` (NCCL's LL / LL128 / Simple as its tuner models them) in closed form:
base + steps x step + busiest rank's bytes / protocol rate, the fastest protocol per collective, NCCL's
size rule for point-to-point sends."""
import pytest

from hwsim.components.base import run_alone
from hwsim.workload.ops import Op

RATE = 100e9
PROTOCOLS = {"source": "test", "choices": {
    "ll": {"base": "6us", "step": "1us", "efficiency": 0.5, "max_rate": "40GB/s"},
    "simple": {"base": "10us", "step": "3us"}}}
FABRIC = {"type": "link_fabric", "source": "test", "topology": "switch", "ranks": 4,
          "link": {"source": "test", "bandwidth": "100GB/s", "latency": "5us"}, "protocols": PROTOCOLS}


def _seconds(collective, group, nbytes, fabric=FABRIC):
    op = Op(0, "c", "collective", 0, 0.0, "fp16", act_in_bytes=nbytes, act_out_bytes=nbytes, device=0,
            collective=collective, group=group)
    (run,), _ = run_alone("nvlink", fabric, [op])
    return (run.end_ps - run.start_ps) * 1e-12


@pytest.mark.parametrize("nbytes, expected", [
    # 4-rank ring all-reduce: 2(p-1) = 6 steps, each rank sends 6 chunks of n/4 = 1.5 n bytes.
    (1 << 16, 6e-6 + 6 * 1e-6 + 1.5 * (1 << 16) / 40e9),      # LL: its 40 GB/s cap (< 0.5 x 100)
    (1 << 24, 10e-6 + 6 * 3e-6 + 1.5 * (1 << 24) / RATE),     # Simple: the link's rate
])
def test_all_reduce_takes_the_fastest_protocol(nbytes, expected):
    # the link's own 5 us latency is not added: the protocols' latencies replace it
    assert _seconds("all_reduce", 4, nbytes) == pytest.approx(expected, rel=1e-6)


def test_a_send_is_one_step():
    assert _seconds("send", 2, 4096) == pytest.approx(6e-6 + 1e-6 + 4096 / 40e9, rel=1e-6)


def test_without_protocols_messages_pay_the_link_latency_per_hop():
    plain = {key: value for key, value in FABRIC.items() if key != "protocols"}
    # rank 0 -> switch -> rank 1: two hops of 5 us, cut-through
    assert _seconds("send", 2, 4096, plain) == pytest.approx(2 * 5e-6 + 4096 / RATE, rel=1e-6)


def test_a_hierarchical_fabric_does_not_take_protocols():
    from hwsim.components.interconnect.fabric import LinkFabricParams
    hierarchical = {key: value for key, value in FABRIC.items() if key not in ("type", "ranks")}
    with pytest.raises(ValueError, match="hierarchical"):
        LinkFabricParams(**{**hierarchical, "topology": "hierarchical", "nodes": 2, "ranks_per_node": 2,
                            "inter_link": FABRIC["link"]})


NCCL_LL = {"base": "6us", "step": "1us", "efficiency": 0.5, "all_reduce_efficiency": 0.25}
P2P = {**FABRIC, "protocols": {"source": "test", "p2p_ll_threshold": "16KB", "choices": {
    "ll": NCCL_LL, "simple": {"base": "10us", "step": "3us"}}}}


def test_all_reduce_takes_its_own_ll_efficiency():
    # 64 KB over 4 ranks: LL wins both; the all-reduce moves 1.5 n at a quarter of the link's rate,
    # the all-gather (p-1 = 3 steps, 3 chunks of n/4) at half of it
    n = 1 << 16
    assert _seconds("all_reduce", 4, n, P2P) == pytest.approx(6e-6 + 6 * 1e-6 + 1.5 * n / (0.25 * RATE), rel=1e-6)
    assert _seconds("all_gather", 4, n, P2P) == pytest.approx(6e-6 + 3 * 1e-6 + 0.75 * n / (0.5 * RATE), rel=1e-6)


@pytest.mark.parametrize("nbytes, expected", [
    (16384, 6e-6 + 1e-6 + 16384 / (0.5 * RATE)),        # at the threshold: LL
    (16385, 10e-6 + 3e-6 + 16385 / RATE),               # above: Simple
    # 64 KB: the tuner would take LL (7 + 1.3 us < 13 + 0.7 us), NCCL's p2p rule takes Simple
    (1 << 16, 10e-6 + 3e-6 + (1 << 16) / RATE),
])
def test_a_send_takes_ll_up_to_the_p2p_threshold_and_simple_above(nbytes, expected):
    assert _seconds("send", 2, nbytes, P2P) == pytest.approx(expected, rel=1e-6)


def test_a_p2p_threshold_needs_ll_and_simple():
    from hwsim.components.interconnect.fabric import Protocols
    with pytest.raises(ValueError, match="needs protocols named 'll' and 'simple'"):
        Protocols(source="test", p2p_ll_threshold="16KB", choices={"fast": NCCL_LL})


def test_dgx_a100_all_reduce_is_nccl_ring_ll_at_a_quarter_of_the_bus_rate():
    # NCCL 2.20.5's ring LL on 8 ranks: 6.6 us + 14 x 0.6 us, then 2 x 7/8 x n at min(87.7, 200 / 4) GB/s
    # (the A100 port's measured 200 GB/s); hwsim's 14 chunk serialisations of n/8, each rounded up to a
    # whole byte after the rate inflation and to a whole picosecond
    from hwsim.validate.checks.collectives import MACHINES, collective_seconds, fabric_entry
    n = 1 << 18
    seconds = collective_seconds(fabric_entry(MACHINES["a100_dgx"]), "all_reduce", 8, n)
    assert seconds == pytest.approx(6.6e-6 + 14 * 0.6e-6 + 2 * 7 / 8 * n / 50e9, rel=1e-4)
