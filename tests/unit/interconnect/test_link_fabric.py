"""The link_fabric component times communication operators over its topology."""
import pytest

from hwsim.components.base import build_component
from hwsim.components.interconnect import closed_forms as cf
from hwsim.components.interconnect.presets import link_preset
from hwsim.config.errors import ConfigError
from hwsim.config.loader import SourceMap
from hwsim.engine import Simulator
from hwsim.workload.ops import Op


def _fabric(sim, **params):
    raw = {"type": "link_fabric", "source": "test", **params}
    return build_component("fabric", raw, SourceMap("machine.yaml"), ("components", "fabric"), sim)


def _op(op_id, kind, nbytes):
    return Op(op_id, f"{kind}{op_id}", kind, 0, 0.0, "bf16", act_in_bytes=nbytes, act_out_bytes=nbytes)


def _run(sim, fabric, ops):
    finished = {}
    for op in ops:
        fabric.submit(op, lambda op, run: finished.__setitem__(op.id, run))
    sim.run()
    return [finished[op.id] for op in ops]


def test_an_all_reduce_takes_its_closed_form_over_nvlink4_through_a_switch():
    sim = Simulator()
    fabric = _fabric(sim, topology="switch", ranks=8, link="nvlink4_h100")
    nbytes = 8 * 2**20
    (run,) = _run(sim, fabric, [_op(0, "collective", nbytes)])
    nvlink = link_preset("nvlink4_h100")
    assert run.end_ps - run.start_ps == 14 * (nvlink.message_ps(nbytes // 8) + nvlink.latency_ps)
    alpha, beta = 2 * nvlink.latency, 1 / nvlink.rate    # measured payload rate
    wire = nvlink.wire_bytes(nbytes // 8) * 8
    closed = cf.all_reduce_ring(8, wire, alpha, beta)     # up to 14 messages' rounding to whole ps
    assert (run.end_ps - run.start_ps) * 1e-12 == pytest.approx(closed, abs=14e-12)
    assert run.bound == "fabric.links"
    (resource,) = fabric.resources()
    assert resource.floor_s <= (run.end_ps - run.start_ps) * 1e-12


def test_concurrent_operators_contend_for_the_links():
    link = {"source": "t", "bandwidth": "100GB/s", "latency": "1us"}
    sim = Simulator()
    alone = _run(sim, _fabric(sim, topology="ring", ranks=4, link=link), [_op(0, "dispatch", 2**24)])
    sim = Simulator()
    fabric = _fabric(sim, topology="ring", ranks=4, link=link)
    both = _run(sim, fabric, [_op(0, "dispatch", 2**24), _op(1, "combine", 2**24)])
    # channels serve messages first come first served: the dispatch posted first keeps its time
    assert both[0].end_ps == alone[0].end_ps
    assert both[1].end_ps > alone[0].end_ps
    assert fabric.statistics()["messages"] == 2 * 4 * 3


def test_hierarchical_fabric_and_config_errors():
    sim = Simulator()
    fabric = _fabric(sim, topology="hierarchical", nodes=2, ranks_per_node=4, link="ub_cloudmatrix384",
                     inter_link="roce_400g")
    (run,) = _run(sim, fabric, [_op(0, "collective", 2**22)])
    assert run.end_ps > 0
    with pytest.raises(ConfigError, match="needs nodes"):
        _fabric(Simulator(), topology="hierarchical", ranks=8, link="nvlink4_h100")
    with pytest.raises(ConfigError, match="did you mean 'nvlink4_h100'"):
        _fabric(Simulator(), topology="switch", ranks=8, link="nvlink4_h10")
    with pytest.raises(ValueError, match="not 'matmul'"):
        fabric.submit(Op(9, "mm", "matmul", 0, 1.0, "bf16"), lambda *_: None)
