"""A cost model with a hand-checkable formula in place of the machine simulation, so scheduler and
loop tests run thousands of iterations in a blink (the memo and everything above it are real)."""
import pytest

from hwsim.serving.cost import CostModel, IterationCost


class FormulaCost(CostModel):
    """latency = base + per_token x new tokens + per_key x keys attended; energy 1 J per token."""

    def __init__(self, base=0.1, per_token=0.01, per_key=0.0):
        super().__init__("nvidia_a100_80gb", "llama2-7b", additive=False)   # every shape through simulate()
        self.base, self.per_token, self.per_key = base, per_token, per_key

    def simulate(self, iteration):
        keys = sum(seq.new + seq.cached for seq in iteration.seqs)
        return IterationCost(self.base + self.per_token * iteration.tokens + self.per_key * keys,
                             float(iteration.tokens))


@pytest.fixture
def formula():
    return FormulaCost
