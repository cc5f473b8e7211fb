"""The defaults every entry point shares: ``hwsim run`` with no arguments, ``hwsim.simulate()`` and
sweep points without the key all simulate the same step."""

MACHINE = "nvidia_a100_80gb"
MODEL = "llama2-7b"
PHASE = "decode"
BATCH = 1
CONTEXT = 2048        # prompt tokens (prefill) or tokens already cached (decode)
STEPS = 1
SEED = 0
