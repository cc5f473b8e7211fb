"""TeLLMe's LM head runs on its ARM cores through `mapping.ops` and a `cpu` component: the times
are the picoseconds the former `host:` roofline block of the lut_engine gave, plus the engine's
Q/K/V and gate/up passes and 384-bit weight ports added since (decode +2,853,119,952 ps at both
contexts; exact engine cycles in test_lut_passes_and_ports.py), plus the accumulator clear that
linear.hpp runs once per linear call (256 cycles x 7 calls x 24 layers x 4 ns, every phase), with
attention moved from the fabric's roofline to TeLLMe's attention unit (its closed-form cycles at 4 ns,
in place of what the fabric gave the same ops: the machine with attention mapped back to fabric)."""
import copy

import pytest

from hwsim.components.fpga.attention import decode_cycles, prefill_cycles
from hwsim.machine import load_machine, machine_from_dict

from hwsim.step import simulate
from hwsim.workload.precision import Precision

# latency (ps) with the lut_engine `host:` block, before it moved to mapping.ops (same trace, same engine)
BEFORE_PS = {("decode", 64): 24_166_947_727, ("decode", 512): 27_643_427_695,
             ("prefill", 64): 384_236_403_799, ("prefill", 256): 1_547_784_819_727}

ACCUMULATOR_CLEAR_PS = 256 * 7 * 24 * 4000


ATTENTION = ("attn_score", "softmax", "attn_context")


def _run(machine, phase, context):
    return simulate(machine, "bitnet-b1.58-0.7b", phase=phase, batch=1, context=context,
                    precision=Precision("ternary", "int8", "fp16"))


def _attention_on_fabric():
    data = copy.deepcopy(load_machine("tellme_kv260").spec.model_dump(mode="json"))
    for name in ATTENTION:
        data["mapping"]["ops"].pop(name)
    return machine_from_dict(data)


def _unit_ps(phase, context):
    """24 layers of the attention unit (96 blocks, 16 heads; prefill: 8 queries, 32 adders), 4 ns a cycle."""
    cycles = prefill_cycles(context, 96, 16, 16, 8, 32) if phase == "prefill" else decode_cycles(context + 1, 96, 16)
    return 24 * sum(cycles.values()) * 4000


@pytest.mark.parametrize("phase, context", list(BEFORE_PS))
def test_tellme_results_unchanged(phase, context):
    report = _run("tellme_kv260", phase, context)
    fabric_ps = sum(r.end_ps - r.start_ps for r in _run(_attention_on_fabric(), phase, context).ops
                    if r.kind in ATTENTION)
    assert round(report.latency_s * 1e12) == (BEFORE_PS[(phase, context)] + ACCUMULATOR_CLEAR_PS - fabric_ps
                                              + _unit_ps(phase, context))
    lm_head = next(r for r in report.ops if r.name == "lm_head")
    assert (lm_head.component, lm_head.bound) == ("arm", "arm.memory")
