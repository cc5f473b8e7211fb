"""Link.reserve books a channel without scheduling an event; send() is reserve plus one arrival."""
from hwsim.engine import Link, Simulator


def test_reserve_books_the_link_without_an_event_and_send_uses_it():
    sim = Simulator()
    link = Link(sim, latency_ps=7, bandwidth_bytes_per_s=1e12)  # 1 ps per byte
    assert link.reserve(100, ready_ps=50) == (50, 150)
    assert link.reserve(10, ready_ps=0, setup_ps=5) == (150, 165)        # waits for the link
    assert link.reserve(10, ready_ps=200, min_end_ps=400) == (200, 400)  # cut-through tail
    assert sim.peek() is None
    assert (link.messages, link.bytes_sent, link.busy_ps, link.free_at_ps) == (3, 120, 115 + 200, 400)
    assert link.send(1, lambda: None) == 400 + 1 + 7
