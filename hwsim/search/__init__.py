"""Multi-objective design-space search (Optuna) over a sweep's axes, with silicon area and cost.

    from hwsim.search import load_search, run_search
    result = run_search(load_search("sweeps/pim_gpt_search.yaml"), jobs=2)
    result.front          # the non-dominated trials

Imports are lazy so that `hwsim --help` does not load Optuna or the simulator.
"""
_EXPORTS = {"run_search": "hwsim.search.run", "SearchResult": "hwsim.search.run",
            "load_search": "hwsim.search.spec", "search_from_dict": "hwsim.search.spec",
            "machine_area": "hwsim.search.area"}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hwsim.search' has no attribute '{name}'")
    import importlib
    return getattr(importlib.import_module(_EXPORTS[name]), name)
