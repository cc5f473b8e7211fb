"""The split iteration cost (body once per token counts + attention kernels per iteration) equals
the event simulation bit for bit where the machine allows the split, and is refused elsewhere."""
import random

import pytest

from hwsim.machine import load_machine
from hwsim.serving.cost import CostModel
from hwsim.serving.data_parallel import replica_machine
from hwsim.workload.iteration import Iteration, Seq

MIXED = [Iteration((Seq(1, 100), Seq(1, 40), Seq(1, 700))), Iteration((Seq(64, 0), Seq(1, 40), Seq(1, 3))),
         Iteration((Seq(16, 32, False),)), Iteration((Seq(1, 512),) * 4), Iteration((Seq(300, 0), Seq(20, 9)))]


@pytest.mark.parametrize("machine, model", [("nvidia_a100_80gb", "llama2-7b"), ("nvidia_h100_sxm", "llama3-8b"),
                                            ("nvidia_t4_eager", "llama2-7b")])
def test_split_cost_equals_the_event_simulation_bit_for_bit(machine, model):
    cost = CostModel(machine, model)
    assert cost.additive is not None
    for it in MIXED:
        assert cost(it) == cost.simulate(it)
    assert len(cost.memo) == len(MIXED)                      # one body per (tokens, sampling rows)


@pytest.mark.parametrize("machine, model", [("dgx_a100_tp2_dp4", "llama2-7b"), ("dgx_a100_8gpu_nvlink", "llama3-8b")])
def test_tensor_parallel_split_equals_the_event_simulation_bit_for_bit(machine, model):
    """A TP2 replica (of the DP4 node) and TP8: one rank's operators plus the all-reduces, alone,
    on random mixed iterations (prompts, prompt chunks, decodes, rows that sample nothing)."""
    node = load_machine(machine)
    cost = CostModel(replica_machine(node) if node.spec.parallelism.dp > 1 else node, model)
    assert cost.additive is not None and cost.additive.tp == node.spec.parallelism.tp
    rng = random.Random(15)
    randoms = [Iteration(tuple(Seq(rng.choice([1, 1, rng.randint(2, 400)]), rng.randint(0, 3000), rng.random() < 0.9)
                               for _ in range(rng.randint(1, 12)))) for _ in range(8)]
    for it in randoms + [Iteration((Seq(16, 32, False),))]:            # the last samples nothing: no LM head
        assert cost(it) == cost.simulate(it)


def test_bodies_are_shared_by_iterations_with_equal_token_counts():
    cost = CostModel("nvidia_a100_80gb", "llama2-7b")
    for context in range(100, 140):
        assert cost(Iteration((Seq(1, context), Seq(1, 7)))) == cost.simulate(Iteration((Seq(1, context), Seq(1, 7))))
    assert len(cost.memo) == 1 and cost.hit_rate == pytest.approx(39 / 40)


def test_attention_kernels_are_shared_by_groups_of_equal_work_whatever_their_sequences():
    """The kernel memo leaves the sequences' shapes out of its key (a pure-timing GPU times an
    attention op by its padded shape and totals): equal work, other contexts, same result as simulated."""
    cost = CostModel("nvidia_a100_80gb", "llama2-7b")
    a = Iteration((Seq(1, 100), Seq(1, 50), Seq(1, 75)))
    b = Iteration((Seq(1, 100), Seq(1, 62), Seq(1, 63)))         # longest 101 keys, 228 in all, as a
    assert a.groups()["decode"].work == b.groups()["decode"].work
    assert a.groups()["decode"].shapes != b.groups()["decode"].shapes
    for it in (a, b):
        assert cost(it) == cost.simulate(it)
    assert len(cost.additive.kernels) == 1


@pytest.mark.parametrize("machine, model, why", [("h100_8gpu_nvlink", "mixtral-8x7b", "beyond tensor parallelism"),
                                                 ("dgx_a100_tp2_dp4", "llama2-7b", "beyond tensor parallelism"),
                                                 ("nvidia_a100_80gb", "mixtral-8x7b", "MLA or MoE"),
                                                 ("pim_gpt", None, "timing carries state")])
def test_the_split_is_refused_where_the_machine_does_not_allow_it(machine, model, why):
    assert CostModel(machine, model).additive is None
    with pytest.raises(ValueError, match=why):
        CostModel(machine, model, additive=True)


def test_bucketing_rounds_cached_tokens_up():
    cost = CostModel("nvidia_a100_80gb", "llama2-7b", bucket=64)
    it = Iteration((Seq(1, 100), Seq(20, 0), Seq(1, 128)))
    assert cost.bucketed(it) == Iteration((Seq(1, 128), Seq(20, 0), Seq(1, 128)))
    assert cost(it) == cost.simulate(cost.bucketed(it))
    near_the_end = Iteration((Seq(1, 4090), Seq(3, 4000)))       # llama2-7b: 4096 positions
    assert cost.bucketed(near_the_end) == Iteration((Seq(1, 4095), Seq(3, 4032)))
    with pytest.raises(ValueError, match="bucket"):
        CostModel("nvidia_a100_80gb", "llama2-7b", bucket=0)


def test_a_bucketed_serving_run_costs_only_rounded_contexts(formula):
    from hwsim.serving.serve import serve
    seen = []

    class Recording(formula):
        def simulate(self, iteration):
            seen.extend(seq.cached for seq in iteration.seqs)
            return super().simulate(iteration)

    cost = Recording(per_key=1e-4)
    cost.bucket = 64
    report = serve(n=30, rate=5.0, prompt="uniform:10:300", output="uniform:2:40", kv_tokens=20_000, cost=cost)
    assert len(report.done) == 30 and seen and all(cached % 64 == 0 for cached in seen)
