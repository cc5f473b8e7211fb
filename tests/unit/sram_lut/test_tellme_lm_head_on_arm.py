"""TeLLMe's LM head runs on its ARM cores through `mapping.ops` and a `cpu` component: the times
are the picoseconds the former `host:` roofline block of the lut_engine gave, plus the engine's
Q/K/V and gate/up passes and 384-bit weight ports added since (decode +2,853,119,952 ps at both
contexts; exact engine cycles in test_lut_passes_and_ports.py), plus the accumulator clear that
linear.hpp runs once per linear call (256 cycles x 7 calls x 24 layers x 4 ns, every phase)."""
import pytest

from hwsim.step import simulate
from hwsim.workload.precision import Precision

# latency (ps) with the lut_engine `host:` block, before it moved to mapping.ops (same trace, same engine)
BEFORE_PS = {("decode", 64): 24_166_947_727, ("decode", 512): 27_643_427_695,
             ("prefill", 64): 384_236_403_799, ("prefill", 256): 1_547_784_819_727}

ACCUMULATOR_CLEAR_PS = 256 * 7 * 24 * 4000


@pytest.mark.parametrize("phase, context", list(BEFORE_PS))
def test_tellme_results_unchanged(phase, context):
    report = simulate("tellme_kv260", "bitnet-b1.58-0.7b", phase=phase, batch=1, context=context,
                      precision=Precision("ternary", "int8", "fp16"))
    assert round(report.latency_s * 1e12) == BEFORE_PS[(phase, context)] + ACCUMULATOR_CLEAR_PS
    lm_head = next(r for r in report.ops if r.name == "lm_head")
    assert (lm_head.component, lm_head.bound) == ("arm", "arm.memory")
