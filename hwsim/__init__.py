"""hwsim: cycle-level simulator of LLM and MoE inference hardware.

    import hwsim
    report = hwsim.simulate("nvidia_a100_80gb", "llama2-7b", phase="decode", batch=1, context=2048)
"""
__version__ = "0.1.0"


def simulate(machine, model, **options):
    """Simulate one inference step; see hwsim.simulate.simulate for the options."""
    from hwsim.simulate import simulate as run

    return run(machine, model, **options)


__all__ = ["simulate", "__version__"]
