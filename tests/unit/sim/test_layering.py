"""Layering (issue 15 item 10): the mapping layer never imports the one-step simulation above it, and
the several-step decode built from the iteration form keeps one-step results."""
import subprocess
import sys

from hwsim.mapping.offload import decode_steps
from hwsim.step import simulate, simulate_steps
from hwsim.workload.trace import generate_trace


def test_no_mapping_module_imports_the_simulation():
    code = ("import sys, pkgutil, importlib, hwsim.mapping as m\n"
            "for info in pkgutil.iter_modules(m.__path__): importlib.import_module(f'hwsim.mapping.{info.name}')\n"
            "print(sorted(name for name in sys.modules if name in ('hwsim.step', 'hwsim.serving')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_each_step_of_the_decode_chain_is_the_one_step_decode_trace():
    chain = decode_steps("llama2-7b", batch=2, context=100, steps=3)
    one = generate_trace("llama2-7b", "decode", 2, 101)
    ops = chain.ops[len(one.ops):2 * len(one.ops)]
    shape = lambda op: (op.name, op.flops, op.total_bytes)
    assert list(map(shape, ops)) == list(map(shape, one.ops))
    assert ops[0].deps == (len(one.ops) - 1,)          # step 1 waits for step 0's LM head


def test_one_step_of_the_chain_is_the_one_step_simulation_on_an_offload_machine():
    single = simulate("gh200_c2c_offload")
    chained = simulate_steps("gh200_c2c_offload", single.model, steps=1, batch=single.batch, context=single.context)
    assert (chained.latency_s, chained.energy_j, chained.tokens) == (single.latency_s, single.energy_j, single.tokens)
