"""The iteration memo returns bit for bit what an uncached simulation of the same shape does."""
from hwsim.serving.cost import CostModel
from hwsim.step import simulate
from hwsim.workload.iteration import Iteration, Seq


def test_memo_equals_uncached_and_simulates_each_shape_once():
    cost = CostModel("nvidia_a100_80gb", "llama2-7b")
    shapes = [Iteration((Seq(1, 100), Seq(1, 40))), Iteration((Seq(64, 0), Seq(1, 40))),
              Iteration((Seq(16, 32, False),))]
    first = [cost(it) for it in shapes]
    again = [cost(it) for it in shapes * 3]
    assert again == first * 3
    assert [CostModel("nvidia_a100_80gb", "llama2-7b").simulate(it) for it in shapes] == first
    assert len(cost.memo) == 3 and cost.calls == 12 and cost.hit_rate == 0.75


def test_a_decode_only_iteration_costs_todays_decode_step():
    cost = CostModel("nvidia_a100_80gb", "llama2-7b")
    step = simulate("nvidia_a100_80gb", "llama2-7b", phase="decode", batch=4, context=512)
    assert cost(Iteration((Seq(1, 512),) * 4)) == (step.latency_s, step.energy_j)


def test_moe_iterations_on_a_multi_device_plan_are_memoized_exactly():
    cost = CostModel("h100_8gpu_nvlink", "mixtral-8x7b", seed=3)
    it = Iteration((Seq(20, 0), Seq(1, 60)) * 4)
    assert cost(it) == cost(it) == CostModel("h100_8gpu_nvlink", "mixtral-8x7b", seed=3).simulate(it)
