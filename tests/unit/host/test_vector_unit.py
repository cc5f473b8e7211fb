"""The host/ASIC vector unit: cycles = ceil(FLOPs / (lanes x flops/lane/cycle x units)) + op latency."""

from hwsim.components.base import build_component
from hwsim.config.loader import SourceMap
from hwsim.engine import Simulator
from hwsim.workload.ops import Op


def test_vector_op_cycles_and_energy():
    sim = Simulator()
    unit = build_component("asic", {"type": "vector_unit", "source": "t", "clock": "500MHz", "lanes": 64,
                                     "units": 2, "op_latency": 10, "energy_per_flop": "2pJ"},
                           SourceMap("<t>"), ("asic",), sim)
    out = []
    op = Op(0, "softmax", "softmax", 0, 1000.0, "bf16")
    unit.submit(op, lambda o, e: out.append(e))
    unit.submit(op, lambda o, e: out.append(e))
    sim.run()
    cycles = -(-1000 // 128) + 10                                  # 8 + 10
    assert [e.end_ps for e in out] == [cycles * 2000, 2 * cycles * 2000]
    assert out[0].energy_j == 1000 * 2e-12
