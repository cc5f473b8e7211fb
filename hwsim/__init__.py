"""hwsim: cycle-level simulator of LLM and MoE inference hardware.

    import hwsim
    report = hwsim.simulate("nvidia_a100_80gb", "llama2-7b", phase="decode", batch=1, context=2048)

The one-step simulation lives in ``hwsim.step`` (no submodule shares a name with a package
attribute, so ``hwsim.simulate`` stays this function however many modules a script imports).
"""
from hwsim import defaults

__version__ = "0.1.0"


def simulate(machine=defaults.MACHINE, model=None, **options):
    """Simulate one inference step; see ``hwsim.step.simulate`` for the options. Without a model
    (or phase, batch, context) it runs the machine's ``defaults:``, else ``hwsim.defaults``."""
    from hwsim.step import simulate as run

    return run(machine, model, **options)


__all__ = ["simulate", "__version__"]
