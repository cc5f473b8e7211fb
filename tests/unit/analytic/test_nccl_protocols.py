"""link_fabric `protocols` (NCCL's LL / LL128 / Simple as its tuner models them) in closed form:
base + steps x step + busiest rank's bytes / protocol rate, the fastest protocol per operator."""
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
