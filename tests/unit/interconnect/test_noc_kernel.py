"""On-chip network: zero-load latency equals the pipeline formula, contention and credits cost
exactly what a hand trace of the router says, and heavy traffic is delivered without deadlock."""
import numpy as np
import pytest

from hwsim.components.interconnect.noc import RouterSpec, bernoulli_packets, crossbar, mesh, simulate_noc, torus
from hwsim.components.interconnect.noc.traffic import Packets


def _packets(src, dst, created, flits):
    as_array = lambda values: np.asarray(values, dtype=np.int64)  # noqa: E731
    return Packets(as_array(src), as_array(dst), as_array(created), as_array(flits))


def _isolated_all_pairs(terminals, flits, spacing=100):
    src, dst = np.divmod(np.arange(terminals * terminals), terminals)
    return _packets(src, dst, np.arange(len(src)) * spacing, np.full(len(src), flits))


ROUTERS = [  # buffers deeper than the credit round trip, so flits stream one per cycle
    RouterSpec(),
    RouterSpec(routing_delay=2, vc_alloc_delay=2, sw_alloc_delay=1, crossbar_delay=0, link_latency=3,
               credit_delay=7, num_vcs=2, vc_buf_size=16),
]


@pytest.mark.parametrize("router", ROUTERS, ids=["booksim_like", "deep_pipeline"])
@pytest.mark.parametrize("topology", [mesh(4), torus(4), crossbar(5)], ids=lambda t: t.name)
def test_zero_load_latency_and_hops_of_every_pair(topology, router):
    packets = _isolated_all_pairs(topology.terminals, flits=5)
    result = simulate_noc(topology, router, packets)
    hops = topology.routers_on_path(packets.src, packets.dst)
    assert np.array_equal(result.routers_passed, hops)
    expected = np.array([router.zero_load_latency(h, 5) for h in hops])
    assert np.array_equal(result.latency, expected)


def test_booksim_pipeline_numbers():
    """BookSim2's trace of a self-addressed 4-flit packet (routing, VC and switch allocation delay 1,
    channel latency 1): head received 7 cycles after creation, tail 10."""
    assert RouterSpec().hop_cycles == 5
    assert RouterSpec().zero_load_latency(1, 4) == 10


def test_mesh_dimension_order_routes_x_first():
    topo = mesh(4)
    # from (0,0) to (2,3): +x twice, then +y
    assert topo.route[0, 3 * 4 + 2] == 0
    assert topo.route[2, 3 * 4 + 2] == 2
    assert topo.route[14, 14] == 4


def test_torus_takes_the_short_way_round():
    topo = torus(8)
    assert topo.route[0, 7] == 1                     # x-1 through the wrap link
    assert topo.routers_on_path(np.array([0]), np.array([7]))[0] == 2
    assert topo.wraps[0, 1] == 1 and topo.vc_classes == 2


def test_two_packets_to_one_port_interleave_flits_round_robin():
    """Crossbar, terminals 0 and 1 each send 4 flits to terminal 2 at cycle 0. Both heads win a VC
    in cycle 3; from cycle 4 the output alternates between them, so their tails leave in cycles
    10 and 11 and arrive 3 cycles later (alone: 10 cycles)."""
    result = simulate_noc(crossbar(4), RouterSpec(), _packets([0, 1], [2, 2], [0, 0], [4, 4]))
    assert result.latency.tolist() == [13, 14]


def test_single_flit_buffers_wait_for_the_credit_round_trip():
    """One VC of one flit: flit i+1 leaves the terminal only when flit i's credit returns
    (4 cycles after it left the router buffer), and the router waits for the ejection credit."""
    alone = simulate_noc(crossbar(4), RouterSpec(), _packets([0], [1], [0], [3])).latency[0]
    starved = simulate_noc(crossbar(4), RouterSpec(num_vcs=1, vc_buf_size=1), _packets([0], [1], [0], [3]))
    assert alone == 9
    assert starved.latency[0] == 21


def test_hotspot_is_limited_to_one_flit_per_cycle():
    packets = _packets(np.arange(1, 8), np.zeros(7), np.zeros(7), np.full(7, 6))
    result = simulate_noc(crossbar(8), RouterSpec(), packets)
    assert result.ejected.max() >= 7 * 6
    assert sorted(result.latency.tolist())[-1] == result.latency.max() >= 42


@pytest.mark.parametrize("topology", [mesh(8), torus(8)], ids=lambda t: t.name)
def test_heavy_uniform_traffic_is_all_delivered(topology):
    packets = bernoulli_packets(topology.terminals, 2000, 0.15, 4, "uniform", seed=3)
    result = simulate_noc(topology, RouterSpec(), packets)
    assert result.delivered.all()
    assert np.array_equal(result.routers_passed, topology.routers_on_path(packets.src, packets.dst))


def test_latency_grows_with_load_and_never_beats_zero_load():
    router, topo = RouterSpec(), mesh(8)
    means = []
    for rate in (0.005, 0.03, 0.06):
        packets = bernoulli_packets(64, 3000, rate, 4, "uniform", seed=5)
        result = simulate_noc(topo, router, packets)
        floor = np.array([router.zero_load_latency(h, 4) for h in result.routers_passed])
        assert (result.latency >= floor).all()
        means.append(result.latency.mean())
    assert means[0] < means[1] < means[2]


def test_transpose_traffic_swaps_coordinates():
    packets = bernoulli_packets(64, 200, 0.2, 1, "transpose", seed=0)
    assert np.array_equal(packets.dst, (packets.src % 8) * 8 + packets.src // 8)
    with pytest.raises(ValueError, match="square"):
        bernoulli_packets(12, 10, 0.5, 1, "transpose")


def test_torus_needs_an_even_number_of_vcs():
    with pytest.raises(ValueError, match="even num_vcs"):
        simulate_noc(torus(4), RouterSpec(num_vcs=3), _packets([0], [1], [0], [1]))
