"""`hwsim validate`: every published target this build can run, side by side with hwsim's figure.

Each target group in targets.yaml (dram_analytic, systolic_gemm, ...) has at most one check
function registered with `@check("group")`; it returns one Row per case. Groups with no
check are listed as not runnable yet, with the reason. A group whose targets ship inside hwsim
(`@check("group", shipped=True)`, e.g. measured kernel tables under validate/data/) runs after
the targets file's groups, with no data from that file.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

SHIPPED = Path(__file__).with_name("targets.yaml")
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "validation" / "targets.yaml"

ERROR_UNIT = "|err|"    # the unit of a row whose figures are error statistics (|simulated / measured - 1|)
CHECKS: dict[str, Callable[[dict], list["Row"]]] = {}
SHIPPED_GROUPS: list[str] = []     # groups that carry their own targets


@dataclass(frozen=True)
class Row:
    """One published figure against hwsim's. An `info` row shows context beside a target (e.g. the
    same quantity under another accounting) and never counts as a pass or a failure. `cell` places
    an INFO row in its group's compact table, (table row, table column), e.g. (operator, machine):
    groups with many such rows are summarised by it instead of listed line by line. `band` is the
    interval of hwsim figures that pass, in the row's unit (an end may be infinite), where the row's
    tolerance is one: the parity plot draws it per row; rows built by `within` and `relative` carry it."""

    target: str
    published: float
    simulated: float
    unit: str
    passed: bool
    tolerance: str
    info: bool = False
    cell: tuple[str, str] | None = None
    band: tuple[float, float] | None = None

    @property
    def result(self) -> str:
        return "INFO" if self.info else "PASS" if self.passed else "FAIL"

    @property
    def error(self) -> float:
        return (self.simulated - self.published) / self.published if self.published else 0.0

    @property
    def statistic(self) -> bool:
        """The row's figures are error statistics against a goal, not a figure beside its published twin."""
        return self.unit == ERROR_UNIT

    @property
    def tabulated(self) -> bool:
        """An INFO row shown in its group's compact table rather than on a line of its own."""
        return self.info and self.cell is not None

    @property
    def error_text(self) -> str:
        """The signed error as a percentage; blank where it means nothing: no hwsim figure, or an
        error statistic (its distance to the goal is not an error of hwsim's)."""
        return "" if self.statistic or not math.isfinite(self.simulated) else f"{self.error:+.2%}"


def within(target: str, published: float, simulated: float, unit: str, low: float, high: float, tolerance: str,
           **kwargs) -> Row:
    """A row that passes when hwsim's figure lies in [low, high], its tolerance band."""
    return Row(target, published, simulated, unit, low <= simulated <= high, tolerance, band=(low, high), **kwargs)


def in_range(target: str, simulated: float, unit: str, low: float, high: float, **kwargs) -> Row:
    """A row for a figure published as a range [low, high]: shown by its midpoint, passing inside it."""
    return within(target, (low + high) / 2, simulated, unit, low, high, f"{low:g}-{high:g}{'x' if unit == 'x' else ''}",
                  **kwargs)


def relative(target: str, published: float, simulated: float, unit: str, rel: float, **kwargs) -> Row:
    """A row that passes when hwsim's figure is within `rel` of the published one."""
    return within(target, published, simulated, unit, published * (1 - rel), published * (1 + rel), f"rel {rel:.0%}",
                  **kwargs)


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


@dataclass
class Validation:
    """One validation run: the rows of every group run, in run order, and the groups not runnable."""

    targets: Path
    groups: dict[str, list[Row]]
    pending: list[tuple[str, str]]      # (group, why it cannot run)

    @property
    def rows(self) -> list[Row]:
        return [row for rows in self.groups.values() for row in rows]

    @property
    def counts(self) -> Counter:
        """PASS / FAIL / INFO -> rows."""
        return Counter(row.result for row in self.rows)

    @property
    def passed(self) -> bool:
        return self.counts["FAIL"] == 0

    @property
    def counts_text(self) -> str:
        counts = self.counts
        return f"{counts['PASS']} pass, {counts['FAIL']} fail, {counts['INFO']} info (context, not a target)"


def collect(path=None, only=None) -> Validation:
    """Run every target group of the targets file at `path` (default: default_targets_file()) and
    the shipped groups, or only the groups named in `only`."""
    _import_checks()
    path = Path(path or default_targets_file())
    targets = load_targets(path)
    groups, pending = {}, []
    for group, data in list(targets.items()) + [(group, {}) for group in SHIPPED_GROUPS if group not in targets]:
        if only and group not in only:
            continue
        if group in CHECKS:
            groups[group] = CHECKS[group](data)
        else:
            pending.append((group, "no check written yet"))
    return Validation(path, groups, pending)


def _span(values) -> str:
    low, high = min(values), max(values)
    return f"{low:.3g}" if low == high else f"{low:.3g}-{high:.3g}"


def info_summary(rows: list[Row]) -> str:
    """One line for a group's tabulated INFO rows: how many, and the range of hwsim's figures per unit."""
    by_unit: dict[str, list[float]] = {}
    for row in rows:
        by_unit.setdefault(row.unit, []).append(row.simulated)
    ranges = ", ".join(f"{_span(values)} {unit}" for unit, values in by_unit.items())
    return f"{len(rows)} INFO rows (context, not targets): hwsim {ranges}"


def print_table(validation: Validation, out=print, every_row: bool = False) -> None:
    """The validation table: every target row and the INFO rows beside them; each group's tabulated
    INFO rows (e.g. 80 operator/machine statistics) as one summary line, or line by line with
    `every_row`."""
    out(f"targets: {validation.targets}")
    header = f"{'target':<52} {'published':>12} {'hwsim':>12} {'unit':<9} {'error':>8}  {'tolerance':<14} result"
    out(header)
    out("-" * len(header))
    for group, rows in validation.groups.items():
        for row in rows:
            if every_row or not row.tabulated:
                out(f"{row.target:<52} {row.published:>12.6g} {row.simulated:>12.6g} {row.unit:<9} "
                    f"{row.error_text:>8}  {row.tolerance:<14} {row.result}")
        tabulated = [row for row in rows if row.tabulated]
        if tabulated and not every_row:
            out(f"  {group}: {info_summary(tabulated)}; --all lists them")
    out(f"\n{validation.counts_text}")
    if validation.pending:
        out("\nnot runnable yet:")
        for group, reason in validation.pending:
            out(f"  {group:<16} {reason}")


def run_validation(path=None, only=None, out=print, every_row: bool = False) -> Validation:
    """Run the targets (see collect) and print their table (see print_table)."""
    validation = collect(path, only)
    print_table(validation, out, every_row)
    return validation
