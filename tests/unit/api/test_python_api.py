"""The Python API as exploration scripts use it: called in a loop, after any import, with the
same defaults as the command line."""
import ast
import importlib
import pkgutil
from pathlib import Path

import hwsim
from hwsim import defaults
from hwsim.cli import fill_workload, parser


def test_simulate_in_a_loop_gives_the_same_report_each_time():
    import hwsim.step  # noqa: F401  (a script that imported the module must keep the function)

    reports = [hwsim.simulate("nvidia_a100_80gb", "gpt2-small", batch=2, context=128) for _ in range(3)]
    assert callable(hwsim.simulate)
    assert all(r.to_dict() == reports[0].to_dict() for r in reports)
    assert reports[0].tokens_per_s > 0


def test_api_and_cli_share_one_set_of_defaults():
    args = fill_workload(parser().parse_args(["run"]))
    report = hwsim.simulate()
    assert (args.machine, args.model) == (defaults.MACHINE, defaults.MODEL)
    assert (args.phase, args.batch, args.context, args.steps, args.seed) == (
        defaults.PHASE, defaults.BATCH, defaults.CONTEXT, defaults.STEPS, defaults.SEED)
    assert (report.phase, report.batch, report.context, report.seed) == (
        defaults.PHASE, defaults.BATCH, defaults.CONTEXT, defaults.SEED)


def _names_defined_by(init: Path, package: str) -> set[str]:
    """Top-level names an ``__init__.py`` binds to something other than its own submodules."""
    names = set()
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            imports_submodules = node.module == package or (node.level == 1 and node.module is None)
            if not imports_submodules:
                names.update(alias.asname or alias.name for alias in node.names)
    return names


def test_no_submodule_shadows_an_attribute_of_its_package():
    shadowed = []
    packages = [hwsim] + [importlib.import_module(m.name) for m in pkgutil.walk_packages(hwsim.__path__, "hwsim.")
                          if m.ispkg]
    for package in packages:
        defined = _names_defined_by(Path(package.__file__), package.__name__)
        submodules = {m.name for m in pkgutil.iter_modules(package.__path__)}
        shadowed += [f"{package.__name__}.{name}" for name in defined & submodules]
    assert not shadowed, f"submodules that replace a package attribute once imported: {shadowed}"
