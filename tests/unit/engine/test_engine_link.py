"""Link: FIFO serialisation, arrival = start + ceil(bytes / bandwidth) + latency, statistics."""
import pytest

from hwsim.engine import Link, Simulator


def arrivals_log():
    sim, log = Simulator(), []

    def arrived(label):
        log.append((sim.now, label))
    return sim, log, arrived


def test_one_message_arrives_after_ceil_occupancy_plus_latency():
    sim, log, arrived = arrivals_log()
    link = Link(sim, latency_ps=500, bandwidth_bytes_per_s=3e9)  # 333.3 ps per byte
    assert link.send(10, arrived, "m") == 3334 + 500
    sim.run()
    assert log == [(3834, "m")]


def test_back_to_back_messages_queue_fifo():
    sim, log, arrived = arrivals_log()
    link = Link(sim, latency_ps=100, bandwidth_bytes_per_s=64e9, name="noc")  # 15.625 ps/B
    for label in "abc":
        link.send(64, arrived, label)  # 1000 ps each
    sim.run()
    assert log == [(1100, "a"), (2100, "b"), (3100, "c")]
    assert link.free_at_ps == 3000


def test_a_message_on_an_idle_link_starts_when_sent():
    sim, log, arrived = arrivals_log()
    link = Link(sim, latency_ps=0, bandwidth_bytes_per_s=1e12)  # 1 ps per byte
    link.send(10, arrived, "early")
    sim.schedule(1000, link.send, 10, arrived, "late")
    sim.run()
    assert log == [(10, "early"), (1010, "late")]


def test_overhead_bytes_occupy_the_link_but_are_not_payload():
    sim, log, arrived = arrivals_log()
    link = Link(sim, latency_ps=5, bandwidth_bytes_per_s=1e12, overhead_bytes=16)
    link.send(48, arrived, "m")
    sim.run()
    assert log == [(64 + 5, "m")]
    assert (link.bytes_sent, link.busy_ps, link.occupancy_ps(0)) == (48, 64, 16)


def test_statistics_and_utilization():
    sim = Simulator()
    link = Link(sim, latency_ps=1000, bandwidth_bytes_per_s=1e9)  # 1000 ps per byte
    for i in range(10):  # 100 B = 100 ns every 200 ns
        sim.schedule(i * 200_000, link.send, 100, lambda: None)
    sim.run(until=2_000_000)
    assert (link.messages, link.bytes_sent, link.busy_ps) == (10, 1000, 1_000_000)
    assert link.utilization() == 0.5
    assert link.utilization(elapsed_ps=1_000_000) == 1.0


def test_saturated_link_delivers_at_its_bandwidth():
    sim, log, arrived = arrivals_log()
    link = Link(sim, latency_ps=0, bandwidth_bytes_per_s=25.6e9)  # 39.0625 ps per byte
    for i in range(1000):
        link.send(256, arrived, i)  # 10,000 ps each
    sim.run()
    assert log[-1] == (10_000_000, 999)
    assert link.utilization() == 1.0


@pytest.mark.parametrize("kwargs, message", [
    ({"latency_ps": -1}, "latency_ps must be a non-negative integer"),
    ({"latency_ps": 1.5}, "latency_ps must be a non-negative integer"),
    ({"bandwidth_bytes_per_s": 0}, "bandwidth_bytes_per_s must be a positive"),
    ({"bandwidth_bytes_per_s": -1e9}, "bandwidth_bytes_per_s must be a positive"),
    ({"overhead_bytes": -8}, "overhead_bytes must be a non-negative integer"),
])
def test_invalid_links_are_value_errors(kwargs, message):
    args = {"latency_ps": 10, "bandwidth_bytes_per_s": 1e9, "name": "hbm0.host"} | kwargs
    with pytest.raises(ValueError, match=f"hbm0.host: {message}"):
        Link(Simulator(), **args)


@pytest.mark.parametrize("nbytes", [-1, 1.5, None])
def test_invalid_message_size_is_a_value_error(nbytes):
    link = Link(Simulator(), latency_ps=10, bandwidth_bytes_per_s=1e9)
    with pytest.raises(ValueError, match="nbytes must be a non-negative integer"):
        link.send(nbytes, print)
