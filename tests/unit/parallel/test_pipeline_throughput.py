"""Pipeline throughput (Report.pipelined_tokens_per_s): with a request per stage in flight, a pipeline of pp
equal stages delivers pp tokens per token latency, and the token latency is one device's step plus the
pp - 1 hand-offs of the hidden vector (closed forms on analytic devices over a switch)."""
import pytest

from hwsim.machine import machine_from_dict
from hwsim.step import simulate

HOP_S, LINK_BPS = 1e-6, 10e9


def _machine(pp: int):
    data = {"name": f"pp{pp}", "description": "analytic devices in a pipeline", "source": "test",
            "components": {"dev": {"type": "analytic_device", "source": "test", "peak": {"fp16": "100TFLOPS"},
                                   "memory": {"capacity": "80GB", "bandwidth": "1TB/s"}}},
            "mapping": {"default": "dev"}}
    if pp > 1:
        data["components"]["dev"]["count"] = pp
        data["components"]["net"] = {"type": "link_fabric", "source": "test", "topology": "switch", "ranks": pp,
                                     "link": {"source": "test", "bandwidth": "10GB/s", "latency": "1us"}}
        data["mapping"]["communication"] = "net"
        data["parallelism"] = {"pp": pp}
    return machine_from_dict(data)


@pytest.mark.parametrize("pp", [2, 4])
def test_pipeline_latency_adds_the_handoffs_and_throughput_counts_a_request_per_stage(pp):
    one = simulate(_machine(1), "llama2-7b", phase="decode", batch=1, context=512)
    piped = simulate(_machine(pp), "llama2-7b", phase="decode", batch=1, context=512)
    hidden = 4096 * 2                                          # one token's hidden vector in fp16
    handoff = 2 * HOP_S + hidden / LINK_BPS                   # device -> switch -> device, serialised once
    sends = [r for r in piped.ops if r.name == "stage_send"]
    assert len(sends) == pp - 1
    assert all(r.duration_s == pytest.approx(handoff, rel=1e-6) for r in sends)
    assert piped.latency_s == pytest.approx(one.latency_s + (pp - 1) * handoff, rel=1e-9)
    assert piped.pipelined_tokens_per_s == pytest.approx(pp / piped.latency_s, rel=1e-12)
    assert one.pipelined_tokens_per_s == pytest.approx(1 / one.latency_s, rel=1e-12)


def test_run_summary_shows_the_pipelined_throughput():
    piped = simulate(_machine(4), "llama2-7b", phase="decode", batch=1, context=512)
    assert f"; {piped.pipelined_tokens_per_s:,.1f} with 4 in flight" in piped.summary()
    assert " in flight" not in simulate(_machine(1), "llama2-7b", phase="decode", batch=1, context=512).summary()
