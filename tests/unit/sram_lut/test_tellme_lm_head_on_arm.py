"""TeLLMe's LM head runs on its ARM cores through `mapping.ops` and a `cpu` component: the times
are the picoseconds the former `host:` roofline block of the lut_engine gave."""
import pytest

from hwsim.simulate import simulate
from hwsim.workload.precision import Precision

# latency (ps) with the lut_engine `host:` block, before it moved to mapping.ops (same trace, same engine)
BEFORE_PS = {("decode", 64): 21_313_827_775, ("decode", 512): 24_790_307_743,
             ("prefill", 64): 354_327_411_799, ("prefill", 256): 1_428_148_851_751}


@pytest.mark.parametrize("phase, context", list(BEFORE_PS))
def test_tellme_results_unchanged(phase, context):
    report = simulate("tellme_kv260", "bitnet-b1.58-0.7b", phase=phase, batch=1, context=context,
                      precision=Precision("ternary", "int8", "fp16"))
    assert round(report.latency_s * 1e12) == BEFORE_PS[(phase, context)]
    lm_head = next(r for r in report.ops if r.name == "lm_head")
    assert (lm_head.component, lm_head.bound) == ("arm", "arm.memory")
