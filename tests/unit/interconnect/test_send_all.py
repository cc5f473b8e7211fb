"""A dependency-free schedule sent in one pass (``Network.send_all``, ``BatchRun``) times every
message and books every channel exactly as sending the messages one by one does."""
import numpy as np

from hwsim.components.interconnect import collectives, network
from hwsim.components.interconnect.presets import link_preset
from hwsim.engine import Simulator


def _hierarchical(sim):
    """2 servers x 3 ranks: two link kinds (UB inside, RoCE NICs across), so two timing classes."""
    return network.hierarchical(sim, 2, 3, link_preset("ub_cloudmatrix384"), link_preset("roce_400g"))


def _channels(net):
    return [(c.free_at_ps, c.messages, c.bytes_sent, c.busy_ps) for c in net.channels]


def test_send_all_equals_sends_one_by_one_on_busy_channels():
    matrix = np.random.default_rng(3).integers(0, 5_000_000, size=(6, 6))
    batch = collectives.direct_all_to_all(matrix)
    sims, nets = (Simulator(), Simulator()), []
    for sim in sims:
        net = _hierarchical(sim)
        net.send(0, 4, 7_000_000, lambda: None)          # earlier traffic keeps some channels busy
        sim.run(until=1_000_000)
        nets.append(net)
    tails = nets[0].send_all(*batch)
    one_by_one = [nets[1].send(s, d, n, lambda: None) for s, d, n in zip(*(a.tolist() for a in batch))]
    assert tails.tolist() == one_by_one and len(one_by_one) == np.count_nonzero(matrix - np.diag(np.diag(matrix)))
    assert _channels(nets[0]) == _channels(nets[1])


def test_a_batch_run_ends_when_the_collective_run_of_its_messages_does():
    matrix = np.arange(36).reshape(6, 6) * 100_003
    ends = []
    for run in (lambda net, done: collectives.BatchRun(net, collectives.direct_all_to_all(matrix), 5_000, done),
                lambda net, done: collectives.CollectiveRun(net, collectives.all_to_all(matrix, "direct"), 5_000, done)):
        sim = Simulator()
        run(_hierarchical(sim), lambda finished: ends.append((finished.start_ps, finished.end_ps,
                                                               finished.arrival_ps.tolist())))
        sim.run()
    assert ends[0] == ends[1] and ends[0][1] > 5_000
