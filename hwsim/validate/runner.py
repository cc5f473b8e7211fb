"""`hwsim validate`: every published target this build can run, side by side with hwsim's figure.

Each target group in targets.yaml (dram_analytic, systolic_gemm, ...) has at most one check
function registered with `@check("group")`; it returns one Row per case. Groups with no
check are listed as not runnable yet, with the reason. A group whose targets ship inside hwsim
(`@check("group", shipped=True)`, e.g. measured kernel tables under validate/data/) runs after
the targets file's groups, with no data from that file.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

SHIPPED = Path(__file__).with_name("targets.yaml")
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "validation" / "targets.yaml"

CHECKS: dict[str, Callable[[dict], list["Row"]]] = {}
SHIPPED_GROUPS: list[str] = []     # groups that carry their own targets


@dataclass(frozen=True)
class Row:
    """One published figure against hwsim's. An `info` row shows context beside a target (e.g. the
    same quantity under another accounting) and never counts as a pass or a failure."""

    target: str
    published: float
    simulated: float
    unit: str
    passed: bool
    tolerance: str
    info: bool = False

    @property
    def result(self) -> str:
        return "INFO" if self.info else "PASS" if self.passed else "FAIL"

    @property
    def error(self) -> float:
        return (self.simulated - self.published) / self.published if self.published else 0.0


def check(group: str, shipped: bool = False):
    """Decorator: register the function that runs target group `group`; `shipped`: the group's
    targets ship with hwsim, so it runs whatever targets file is read."""
    def wrap(fn):
        CHECKS[group] = fn
        if shipped:
            SHIPPED_GROUPS.append(group)
        return fn
    return wrap


def default_targets_file() -> Path:
    return SHARED if SHARED.is_file() else SHIPPED


def load_targets(path=None) -> dict:
    return yaml.safe_load(Path(path or default_targets_file()).read_text())


def _import_checks() -> None:
    from hwsim.validate import checks  # noqa: F401  (registers every check)


def run_group(group: str, data: dict) -> list[Row]:
    _import_checks()
    return CHECKS[group](data)


def run_validation(path=None, only=None, out=print) -> bool:
    """Print the validation table; True when every runnable target passes."""
    _import_checks()
    path = Path(path or default_targets_file())
    targets = load_targets(path)
    out(f"targets: {path}")
    header = f"{'target':<52} {'published':>12} {'hwsim':>12} {'unit':<9} {'error':>8}  {'tolerance':<14} result"
    out(header)
    out("-" * len(header))
    results, pending = Counter(), []
    groups = list(targets.items()) + [(group, {}) for group in SHIPPED_GROUPS if group not in targets]
    for group, data in groups:
        if only and group not in only:
            continue
        if group not in CHECKS:
            pending.append((group, "no check written yet"))
            continue
        for row in CHECKS[group](data):
            results[row.result] += 1
            out(f"{row.target:<52} {row.published:>12.6g} {row.simulated:>12.6g} {row.unit:<9} "
                f"{row.error:>+8.2%}  {row.tolerance:<14} {row.result}")
    out(f"\n{results['PASS']} pass, {results['FAIL']} fail, {results['INFO']} info (context, not a target)")
    if pending:
        out("\nnot runnable yet:")
        for group, reason in pending:
            out(f"  {group:<16} {reason}")
    return results["FAIL"] == 0
