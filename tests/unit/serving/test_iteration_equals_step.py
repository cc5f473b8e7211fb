"""A decode-only (or prefill-only) iteration costs exactly today's step on every shipped machine:
the same latency and energy, bit for bit (the whole set is slow; a spread of kinds runs by default)."""
import pytest

from hwsim.machine import load_machine, shipped_machines
from hwsim.serving.cost import CostModel
from hwsim.step import simulate
from hwsim.workload.iteration import Iteration, Seq

FAST = {"nvidia_a100_80gb", "pim_gpt", "cambricon_llm_s", "lut_tensor_core_a100", "npu_4x4_mesh",
        "h100_8gpu_nvlink", "tellme_kv260"}      # GPU, PIM, flash, LUT, NPU mesh, EP plan, FPGA


@pytest.mark.parametrize("machine", [m if m in FAST else pytest.param(m, marks=pytest.mark.slow)
                                     for m in shipped_machines()])
def test_the_default_step_as_an_iteration_costs_the_same(machine):
    model, phase, batch, context = load_machine(machine).workload()
    seq = Seq(1, context) if phase == "decode" else Seq(context, 0)
    step = simulate(machine)
    cost = CostModel(machine, model).simulate(Iteration((seq,) * batch))
    assert (cost.latency_s, cost.energy_j) == (step.latency_s, step.energy_j)
