"""A concrete DRAM device: organisation + timings (cycles of tCK) + provenance, with consistency checks.

Timings are integers in DRAM clock cycles (tCK, integer picoseconds). Every spec is checked when it is
built: a preset with nRC < nRAS + nRP or a non-positive timing is rejected with the preset name and the
broken rule, so a typo in a data file cannot silently change results.
"""

from __future__ import annotations

import ast
import difflib
import operator
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Mapping

from .standards import STANDARDS, Standard


@dataclass(frozen=True)
class Organization:
    """Geometry of one channel (an HBM pseudo-channel counts as a channel; ``pseudo_channels`` says how
    many of them make one JEDEC channel). ``columns`` are device columns per row; one burst moves
    ``burst_length`` of them over a ``channel_width_bits`` bus at ``rate_MTps`` transfers per second."""

    channels: int
    pseudo_channels: int
    ranks: int
    bankgroups: int
    banks_per_group: int
    rows: int
    columns: int
    burst_length: int
    channel_width_bits: int
    rate_MTps: int

    @property
    def banks_per_rank(self) -> int:
        return self.bankgroups * self.banks_per_group

    @property
    def bursts_per_row(self) -> int:
        return self.columns // self.burst_length

    @property
    def channel_bytes(self) -> int:
        """Storage of one channel: ranks x banks x rows x columns x the bus width (a column is one bus
        beat of ``channel_width_bits``; GDDR6 x16: 16 banks x 16K rows x 1K columns x 2 B = 512 MiB)."""
        return self.ranks * self.banks_per_rank * self.rows * self.columns * self.channel_width_bits // 8

    @property
    def burst_bytes(self) -> int:
        return self.channel_width_bits * self.burst_length // 8

    @property
    def peak_GBps_per_channel(self) -> float:
        """Pin bandwidth of one modelled channel: width * rate / 8 (1 GB = 1e9 B)."""
        return self.channel_width_bits * self.rate_MTps / 8 / 1000


@dataclass(frozen=True)
class DramSpec:
    """One preset: a standard, its organisation and its resolved timings, with where they come from."""

    name: str
    standard: Standard
    org: Organization
    tCK_ps: int
    timings: Mapping[str, int]
    source: str
    energy: Mapping[str, float] = field(default_factory=dict)   # pJ per command, background mW; per channel
    _overridden: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self):
        object.__setattr__(self, "timings", MappingProxyType(dict(self.timings)))
        object.__setattr__(self, "energy", MappingProxyType(dict(self.energy)))
        check_spec(self)
        # hashed once: the kernels' per-spec caches look a spec up for every command stream, and
        # hashing its standard's constraint list each time cost more than running a short stream
        object.__setattr__(self, "_hash", hash((self.name, self.standard, self.org, self.tCK_ps,
                                                tuple(sorted(self.timings.items())))))

    def __hash__(self):
        return self._hash

    def __getitem__(self, name: str) -> int:
        return self.timings[name]

    def latency(self, expression: str) -> int:
        """Value in cycles of a latency expression such as ``"nCWL + nBL + nWR"``."""
        return evaluate(expression, self.timings)

    @property
    def peak_GBps(self) -> float:
        """Peak pin bandwidth of one JEDEC channel (all its pseudo-channels)."""
        return self.org.peak_GBps_per_channel * self.org.pseudo_channels


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv}


def evaluate(expression: str, timings: Mapping[str, int]) -> int:
    """Evaluate an integer expression over timing names (+, -, *, //, parentheses only)."""

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in timings:
                raise KeyError(f"latency {expression!r} uses unknown timing {node.id!r}")
            return timings[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(f"latency {expression!r}: unsupported syntax {ast.dump(node)}")

    return walk(ast.parse(expression, mode="eval"))


# Timings that may be 0: the feature they time is absent (nMODCH: no AiM register-mode switch).
MAY_BE_ZERO = frozenset({"nMODCH"})


def _rules(t: Mapping[str, int]):
    """(rule text, holds?) pairs. nRC gets 1 cycle of slack: presets round tRC, tRAS and tRP up to
    cycles independently (GDDR6-14000: 79 >= 53 + 27 - 1)."""
    yield "nRAS >= nRCD", t["nRAS"] >= t["nRCD"]
    yield "nRC >= nRAS + nRP - 1 (1 cycle of ns->cycle rounding slack)", t["nRC"] >= t["nRAS"] + t["nRP"] - 1
    yield "nCCDL >= nCCDS", t["nCCDL"] >= t["nCCDS"]
    yield "nRRDL >= nRRDS", t["nRRDL"] >= t["nRRDS"]
    yield "nWTRL >= nWTRS", t["nWTRL"] >= t["nWTRS"]
    yield "nFAW >= nRRDS", t["nFAW"] >= t["nRRDS"]
    yield "nREFI > nRFC", t["nREFI"] > t["nRFC"]


def check_spec(spec: DramSpec) -> None:
    """Raise ValueError naming the preset and the violated rule."""
    label = spec.name + (f" (overrides: {', '.join(spec._overridden)})" if spec._overridden else "")
    given, needed = set(spec.timings), set(spec.standard.timing_names)
    for extra in sorted(given - needed):
        hint = difflib.get_close_matches(extra, sorted(needed - given) or sorted(needed), n=1)
        raise ValueError(f"{label}: timing {extra!r} is not used by {spec.standard.name}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""))
    if needed - given:
        raise ValueError(f"{label}: missing timings {sorted(needed - given)} for {spec.standard.name}")
    for name, value in spec.timings.items():
        if not isinstance(value, int) or value < (0 if name in MAY_BE_ZERO else 1):
            raise ValueError(f"{label}: rule '{name} {'>= 0' if name in MAY_BE_ZERO else '> 0'}' violated "
                             f"({name} = {value!r})")
    if spec.tCK_ps <= 0:
        raise ValueError(f"{label}: rule 'tCK_ps > 0' violated")
    for rule, holds in _rules(spec.timings):
        if not holds:
            raise ValueError(f"{label}: rule '{rule}' violated ({_values_in(rule, spec.timings)})")
    org = spec.org
    for f in fields(org):
        if getattr(org, f.name) <= 0:
            raise ValueError(f"{label}: rule 'organization.{f.name} > 0' violated")
    transfers_per_clock = org.rate_MTps * spec.tCK_ps / 1e6
    if abs(spec["nBL"] * transfers_per_clock - org.burst_length) > 0.05 * org.burst_length:
        raise ValueError(f"{label}: rule 'nBL * rate * tCK = burst_length' violated "
                         f"({spec['nBL']} * {transfers_per_clock:.3f} != {org.burst_length})")
    for c in spec.standard.constraints:
        if spec.latency(c.latency) < 0:
            raise ValueError(f"{label}: constraint {c.preceding}->{c.following} latency {c.latency!r} < 0")


def _values_in(rule: str, t: Mapping[str, int]) -> str:
    names = sorted({w for w in rule.replace("(", " ").split() if w in t})
    return ", ".join(f"{n} = {t[n]}" for n in names)


def with_overrides(spec: DramSpec, **overrides: int) -> DramSpec:
    """A new, re-checked spec with some timings, ``tCK_ps`` or organisation fields replaced.
    Unknown names are rejected with a did-you-mean."""
    org_names = {f.name for f in fields(Organization)}
    known = set(spec.timings) | org_names | {"tCK_ps"}
    for name in overrides:
        if name not in known:
            hint = difflib.get_close_matches(name, sorted(known), n=1)
            raise KeyError(f"{spec.name}: unknown timing {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
    timings = {**spec.timings, **{k: v for k, v in overrides.items() if k in spec.timings}}
    org = replace(spec.org, **{k: v for k, v in overrides.items() if k in org_names})
    return replace(spec, timings=timings, org=org, tCK_ps=overrides.get("tCK_ps", spec.tCK_ps),
                   _overridden=tuple(sorted(set(spec._overridden) | set(overrides))))


def make_spec(name: str, standard: str, organization: Mapping, tCK_ps: int, timings: Mapping, source: str,
              energy: Mapping | None = None) -> DramSpec:
    """Build a spec from plain data (a preset file); unknown standard or organisation keys are errors."""
    if standard not in STANDARDS:
        hint = difflib.get_close_matches(standard, list(STANDARDS), n=1)
        raise ValueError(f"{name}: unknown standard {standard!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
    org_names = [f.name for f in fields(Organization)]
    unknown = [k for k in organization if k not in org_names]
    if unknown:
        hint = difflib.get_close_matches(unknown[0], org_names, n=1)
        raise ValueError(f"{name}: unknown organization key {unknown[0]!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
    missing = [k for k in org_names if k not in organization]
    if missing:
        raise ValueError(f"{name}: organization is missing {missing}")
    return DramSpec(name, STANDARDS[standard], Organization(**organization), tCK_ps, dict(timings), source,
                    dict(energy or {}))

