"""A huge batch or context is refused with one line before the step is built: an MoE model's KV
budget is checked before routing allocates per token; with --allow-overcommit, the batch and the
routed expert choices have their own bounds. Never an out-of-memory or a hang."""
import contextlib
import io

import pytest

from hwsim.capacity import CapacityError, kv_capacity_tokens
from hwsim.cli import main
from hwsim.config.counts import COUNT_LIMIT
from hwsim.machine import load_machine
from hwsim.step import simulate
from hwsim.workload.model import load_model
from hwsim.workload.routing import ROUTED_LIMIT, route


def errors(argv: list[str], tmp_path) -> list[str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        assert main(["run", *argv, "--no-plots", "--out", str(tmp_path)]) == 2
    return err.getvalue().splitlines()


def test_moe_batch_beyond_the_kv_budget_is_refused_before_routing():
    machine, model = load_machine("nvidia_a100_80gb"), load_model("olmoe-1b-7b")
    budget = kv_capacity_tokens(machine, model)
    with pytest.raises(CapacityError, match=f"exceed the {budget} tokens .* would fit: batch <= {budget // 2048}"):
        simulate(machine, model, batch=10**9, context=2048)


@pytest.mark.parametrize("argv, message", [
    (["--context", str(10**9)], "would fit: batch 1 and context <= 163839"),           # max_position 163840
    (["--context", str(10**9), "--allow-overcommit"], "1000000001 positions exceed deepseek-v2-lite's max_position"),
    (["--context", str(10**5), "--batch", str(10**9)], "would fit: batch <= "),
    (["--batch", str(10**9), "--allow-overcommit"], f"more sequences than one step simulates (at most {COUNT_LIMIT})"),
    (["--phase", "prefill", "--context", str(10**5), "--batch", "1000", "--allow-overcommit"],
     f"than one step simulates ({ROUTED_LIMIT} expert choices)"),
])
def test_huge_batch_or_context_is_one_error_line(argv, message, tmp_path):
    lines = errors(["nvidia_a100_80gb", "deepseek-v2-lite", *argv], tmp_path)
    assert len(lines) == 1 and lines[0].startswith("hwsim: error: ") and message in lines[0], lines


def test_routing_refuses_before_allocating():
    moe = load_model("olmoe-1b-7b").moe
    with pytest.raises(ValueError, match="use a smaller batch or context"):
        route(moe, 16, 10**12)
