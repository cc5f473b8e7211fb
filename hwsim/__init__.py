"""hwsim: cycle-level simulator of LLM and MoE inference hardware.

    import hwsim
    report = hwsim.simulate("nvidia_a100_80gb", "llama2-7b", phase="decode", batch=1, context=2048)
    serving = hwsim.serve("nvidia_a100_80gb", "llama2-7b", rate=4, n=100, scheduler="chunked")

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


def serve(machine=defaults.MACHINE, model=None, **options):
    """Serve a stream of requests; see ``hwsim.serving.serve.serve`` for the options."""
    from hwsim.serving.serve import serve as run

    return run(machine, model, **options)


__all__ = ["serve", "simulate", "__version__"]
