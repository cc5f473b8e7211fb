"""Design-space sweeps: sweep files, point expansion, local/Dask execution, a resumable result store.

    from hwsim.sweep import load_sweep, run_sweep
    result = run_sweep(load_sweep("sweeps/a100_hbm_vs_compute.yaml"), jobs=2)

Imports are lazy so that `hwsim --help` does not load the simulator.
"""
_EXPORTS = {"SweepResult": "hwsim.sweep.run", "run_sweep": "hwsim.sweep.run",
            "load_sweep": "hwsim.sweep.spec", "sweep_from_dict": "hwsim.sweep.spec"}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hwsim.sweep' has no attribute '{name}'")
    import importlib
    return getattr(importlib.import_module(_EXPORTS[name]), name)
