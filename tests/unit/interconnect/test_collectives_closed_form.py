"""Simulated collectives equal their alpha-beta closed forms when alone, and slow down when they share."""
import numpy as np
import pytest

from hwsim.components.interconnect import closed_forms as cf
from hwsim.components.interconnect import collectives as co
from hwsim.components.interconnect import network as topo
from hwsim.components.interconnect.collectives import CollectiveRun, time_alone
from hwsim.components.interconnect.link import LinkSpec
from hwsim.engine import Simulator

LINK = LinkSpec(source="test", bandwidth="100GB/s", latency="700ns", overhead="300ns")
BETA = 1 / 100e9
MIB = 2**20


def _alpha(net):
    return net.path_alpha_ps(0, 1) * 1e-12


def _close(simulated_ps, closed_s, messages_on_path):
    """Equal up to each message's rounding up to whole picoseconds (under 1 ps per message on the
    critical path) and float error in the closed form."""
    float_error = 1e-12 * simulated_ps
    assert -float_error <= simulated_ps - closed_s * 1e12 < messages_on_path + float_error


CASES = [  # (schedule, closed form, critical-path messages)
    ("ring", lambda p, n: co.all_reduce(p, n, "ring"), cf.all_reduce_ring, lambda p: 2 * (p - 1)),
    ("tree", lambda p, n: co.all_reduce(p, n, "tree"), cf.all_reduce_tree, lambda p: 2 * (p.bit_length() - 1)),
    ("halving_doubling", lambda p, n: co.all_reduce(p, n, "halving_doubling"), cf.all_reduce_halving_doubling,
     lambda p: 2 * (p.bit_length() - 1)),
    ("star", lambda p, n: co.all_reduce(p, n, "star"),
     lambda p, n, alpha, beta: cf.all_reduce_star(p, n, alpha, beta, overhead=300e-9), lambda p: 2 * (p - 1)),
    ("all_gather", co.all_gather, cf.all_gather_ring, lambda p: p - 1),
    ("reduce_scatter", co.reduce_scatter, cf.reduce_scatter_ring, lambda p: p - 1),
    ("all_to_all", lambda p, n: co.all_to_all(co.uniform_matrix(p, n)), cf.all_to_all_pairwise, lambda p: p - 1),
]


@pytest.mark.parametrize("name,schedule,closed,steps", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("ranks", [2, 4, 8, 16])
def test_alone_on_a_switch_equals_the_closed_form(name, schedule, closed, steps, ranks):
    nbytes = 3 * 5 * 7 * 16 * MIB // 16 * (ranks - 1)    # divisible by ranks and by ranks - 1
    net = topo.switch(Simulator(), ranks, LINK)
    simulated = time_alone(net, schedule(ranks, nbytes))
    _close(simulated, closed(ranks, nbytes, _alpha(net), BETA), steps(ranks))


@pytest.mark.parametrize("ranks", [3, 5, 8])
def test_ring_all_reduce_on_a_ring_of_links_equals_the_closed_form(ranks):
    nbytes = 60 * MIB
    net = topo.ring(Simulator(), ranks, LINK)
    assert _alpha(net) == pytest.approx(1e-6)
    simulated = time_alone(net, co.all_reduce(ranks, nbytes, "ring"))
    _close(simulated, cf.all_reduce_ring(ranks, nbytes, 1e-6, BETA), 2 * (ranks - 1))


def test_exact_picoseconds_with_packetisation():
    """With flits, headers and max payload the cost is per message: alpha + wire bytes x beta, exactly."""
    link = LinkSpec(source="t", bandwidth="450GB/s", latency="936.25ns", flit="16B", header="16B",
                    max_payload="256B")
    ranks, nbytes = 8, 8 * 1000 * 1000
    net = topo.fully_connected(Simulator(), ranks, link)
    chunk = nbytes // ranks
    expected = 2 * (ranks - 1) * link.message_ps(chunk)
    assert time_alone(net, co.all_reduce(ranks, nbytes)) == expected
    assert link.wire_bytes(chunk) > chunk


def test_hierarchical_all_reduce_is_the_sum_of_its_phases():
    intra = LinkSpec(source="t", bandwidth="450GB/s", latency="500ns")
    inter = LinkSpec(source="t", bandwidth="50GB/s", latency="2us", overhead="1us")
    nodes, per_node, nbytes = 4, 8, 64 * MIB
    whole = time_alone(topo.hierarchical(Simulator(), nodes, per_node, intra, inter),
                       co.hierarchical_all_reduce(nodes, per_node, nbytes))
    phases = (time_alone(topo.switch(Simulator(), per_node, intra), co.reduce_scatter(per_node, nbytes))
              + time_alone(topo.switch(Simulator(), nodes, inter), co.all_reduce(nodes, nbytes // per_node))
              + time_alone(topo.switch(Simulator(), per_node, intra), co.all_gather(per_node, nbytes)))
    assert whole == phases
    closed = cf.hierarchical_all_reduce(nodes, per_node, nbytes, 1e-6, 1 / 450e9, 5e-6, 1 / 50e9)
    _close(whole, closed, 2 * (per_node - 1) + 2 * (nodes - 1))


def _concurrent(net, schedules):
    runs = [CollectiveRun(net, messages) for messages in schedules]
    net.sim.run()
    return [run.duration_ps for run in runs]


def test_two_collectives_sharing_links_are_slower_than_alone():
    ranks, nbytes = 8, 64 * MIB
    alone = time_alone(topo.ring(Simulator(), ranks, LINK), co.all_reduce(ranks, nbytes))
    both = _concurrent(topo.ring(Simulator(), ranks, LINK), [co.all_reduce(ranks, nbytes)] * 2)
    assert min(both) > alone
    bandwidth_part = 2 * (ranks - 1) / ranks * nbytes * BETA * 1e12
    assert max(both) >= alone + bandwidth_part * 0.99      # the shared channels carry twice the bytes


def test_disjoint_collectives_do_not_interfere():
    ranks, nbytes = 4, 16 * MIB
    alone = time_alone(topo.fully_connected(Simulator(), ranks, LINK), co.all_reduce(ranks, nbytes))
    net = topo.fully_connected(Simulator(), ranks, LINK)
    forward = co.all_reduce(ranks, nbytes)
    mirrored = [co.Message(ranks - 1 - m.src, ranks - 1 - m.dst, m.nbytes, m.deps) for m in forward]
    assert _concurrent(net, [forward, mirrored]) == [alone, alone]   # opposite ring directions


def _skewed(ranks, seed=7):
    rng = np.random.default_rng(seed)
    popularity = rng.dirichlet(np.full(ranks, 0.3))
    matrix = (rng.multinomial(4096, popularity, size=ranks) * 7168).astype(np.int64)   # tokens x hidden bytes
    np.fill_diagonal(matrix, 0)
    return matrix


@pytest.mark.parametrize("algorithm", ["pairwise", "direct"])
def test_skewed_all_to_all_is_bounded_by_its_busiest_rank(algorithm):
    ranks = 8
    matrix = _skewed(ranks)
    net = topo.switch(Simulator(), ranks, LINK)
    simulated = time_alone(net, co.all_to_all(matrix, algorithm)) * 1e-12
    bound = cf.all_to_all_lower_bound(matrix.tolist(), BETA)
    assert simulated >= bound + _alpha(net)
    assert bound > 2 * cf.all_to_all_lower_bound(co.uniform_matrix(ranks, matrix.sum() // ranks).tolist(), BETA)
    if algorithm == "direct":       # posting everything at once stays within a port's worth of the bound
        out_max = (matrix.sum(1)).max() * BETA
        in_max = (matrix.sum(0)).max() * BETA
        assert simulated <= out_max + in_max + ranks * _alpha(net)


@pytest.mark.parametrize("hot", ["sender", "receiver"])
def test_direct_all_to_all_with_one_hot_rank_equals_its_port_time(hot):
    """All bytes through one port, no overhead: busiest-port bytes x beta + path latency, exactly."""
    link = LinkSpec(source="t", bandwidth="100GB/s", latency="700ns")
    ranks = 6
    matrix = np.zeros((ranks, ranks), dtype=np.int64)
    sizes = [1000 * (j + 1) for j in range(ranks - 1)]
    if hot == "sender":
        matrix[0, 1:] = sizes
    else:
        matrix[1:, 0] = sizes
    net = topo.switch(Simulator(), ranks, link)
    assert time_alone(net, co.all_to_all(matrix, "direct")) == sum(sizes) * 10 + 2 * 700_000


def test_algorithm_and_shape_errors_are_explicit():
    with pytest.raises(ValueError, match="power-of-two"):
        co.all_reduce(6, 600, "halving_doubling")
    with pytest.raises(ValueError, match="known: ring, star, tree, halving_doubling"):
        co.all_reduce(4, 400, "rng")
    with pytest.raises(ValueError, match="square"):
        co.all_to_all(np.ones((2, 3)))


def test_nccl_bus_bandwidth_of_an_ideal_ring_all_reduce_is_the_link_bandwidth():
    ranks, nbytes = 8, 8 * 2**26
    link = LinkSpec(source="t", bandwidth="100GB/s")
    seconds = time_alone(topo.ring(Simulator(), ranks, link), co.all_reduce(ranks, nbytes)) * 1e-12
    assert cf.nccl_bus_bandwidth("all_reduce", ranks, nbytes, seconds) == pytest.approx(100e9, rel=1e-9)


def test_star_beats_ring_when_latency_dominates_and_loses_when_bandwidth_does():
    """TPI-LLM's argument (arXiv 2410.00531 section 3): on a slow, high-latency link a small all-reduce is
    latency-bound and the star's 2 message latencies beat the ring's 2(p-1); a large one is bandwidth-bound
    and the star's centre port carries p - 1 buffers each way against the ring's 2(p-1)/p."""
    wifi = LinkSpec(source="test", bandwidth="77.5MB/s", latency="1ms")
    for nbytes, star_wins in ((20 * 1024, True), (64 * MIB, False)):
        net = topo.switch(Simulator(), 4, wifi)
        star = time_alone(net, co.all_reduce(4, nbytes, "star"))
        net = topo.switch(Simulator(), 4, wifi)
        ring = time_alone(net, co.all_reduce(4, nbytes, "ring"))
        assert (star < ring) == star_wins
