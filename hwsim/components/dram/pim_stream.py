"""Front end of the in-order PIM command-stream kernel: names in, issue cycles and a checked log out.

    res = simulate_commands(load_preset("GDDR6_AiM"), ["ACT_ABK", "MAC_ABK", "PREA"], row=[5, 5, -1])
    res.issue_cycle, res.done_cycle, res.log, res.command_counts

A stream repeated many times (``simulate_repeated``) is timed without issuing every repetition
(pim_repeat.py), with the same done cycle, counts, open-row cycles and refresh phase; a
``RepeatPlans`` keeps a stream's plan (its reference and refresh detours) for its later runs, and
the result of each run by its refresh phase: the kernel is shift-invariant (a fresh channel, refresh
due at a cycle relative to the start), so a run of the same stream, times and refresh phase ends the
same number of cycles after its start, with the same counts and open-row cycles, whatever its start.

Cycles are DRAM clock cycles (tCK) from cycle 0 of the channel's life; ``start_cycle`` and
``refresh_due`` carry a channel's position and refresh phase from one stream to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import pim_kernel as pk
from .pim_repeat import D_COUNTS, reference, run_repeated
from .controller import CommandLog, constraint_table
from .spec import DramSpec
from .standards import COMMANDS, COMPLETION

assert COMMANDS == ("ACT", "PRE", "PREA", "RD", "WR", "REF", "REFpb", "ACT_ABK", "MAC_ABK", "MAC_SBK",
                    "WR_GB", "RD_MAC", "AF", "EWMUL")


class IllegalCommand(ValueError):
    """A command that the bank state or a timing constraint forbids (e.g. MAC_ABK with a bank precharged)."""

    def __init__(self, index: int, command: str, reason: str):
        super().__init__(f"command #{index} {command}: {reason}")
        self.index, self.command, self.reason = index, command, reason


@dataclass(frozen=True)
class PimStreamResult:
    issue_cycle: np.ndarray          # per stream command
    done_cycle: int                  # every command's effect complete (data out, banks precharged)
    log: CommandLog                  # stream commands plus inserted refresh commands
    command_counts: dict[str, int]
    open_cycles: int                 # cycles with at least one row open (active standby)
    next_refresh_due: int


@lru_cache(maxsize=64)
def completion_cycles(spec: DramSpec) -> np.ndarray:
    """Cycles from issue to completion per command id (``standards.COMPLETION``; others 1)."""
    return np.array([spec.latency(COMPLETION[c]) if c in COMPLETION else 1 for c in COMMANDS], dtype=np.int64)


def command_ids(names) -> np.ndarray:
    ids = {c: i for i, c in enumerate(COMMANDS)}
    try:
        return np.array([ids[n] for n in names], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"unknown command {exc.args[0]!r}; known: {', '.join(COMMANDS)}") from None


def simulate_commands(spec: DramSpec, commands, rank=None, bankgroup=None, bank=None, row=None, *,
                      refresh: bool = True, start_cycle: int = 0, refresh_due: int | None = None,
                      at=None, raise_illegal: bool = True) -> PimStreamResult:
    """Issue a command stream (names or ids) in order on one channel; fields default to 0.
    ``at`` optionally gives exact issue cycles to check (-1: as early as possible); a command whose
    cycle a timing constraint forbids is illegal. An illegal command raises IllegalCommand (or, with
    raise_illegal=False, ends the stream: its issue cycle and all later ones stay -1)."""
    cmd = np.asarray(commands) if np.asarray(commands).dtype.kind in "iu" else command_ids(commands)
    cmd = np.ascontiguousarray(cmd, dtype=np.int64)
    n = cmd.size
    fields = [np.full(n, fill, np.int64) if a is None else np.ascontiguousarray(np.broadcast_to(a, n), dtype=np.int64)
              for a, fill in ((rank, 0), (bankgroup, 0), (bank, 0), (row, 0), (at, -1))]
    org = spec.org
    for name, a, size in (("rank", fields[0], org.ranks), ("bankgroup", fields[1], org.bankgroups),
                          ("bank", fields[2], org.banks_per_group)):
        if n and (a.min() < 0 or a.max() >= size):
            raise ValueError(f"{spec.name}: {name} index out of range 0..{size - 1}")
    if "nRCDRDMAC" not in spec.timings and np.any(cmd >= COMMANDS.index("ACT_ABK")):
        raise ValueError(f"{spec.name}: {spec.standard.name} has no PIM commands")
    table, window = constraint_table(spec)
    due = spec["nREFI"] if refresh_due is None else refresh_due
    issue, issued, code, log_t, log_c, log_a, counts, open_cycles, done, next_due = pk.run_stream(
        cmd, *fields[:4], table, len(COMMANDS), window, org.ranks, org.bankgroups, org.banks_per_group,
        refresh, spec.standard.refresh_level == "channel", spec["nREFI"], start_cycle, due,
        completion_cycles(spec), fields[4])
    if code != pk.OK and raise_illegal:
        raise IllegalCommand(issued, COMMANDS[cmd[issued]], pk.ILLEGAL[code])
    log = CommandLog(log_t, log_c, *(np.ascontiguousarray(log_a[:, i]) for i in range(4)))
    return PimStreamResult(issue, int(done), log, dict(zip(COMMANDS, counts.tolist())), int(open_cycles),
                           int(next_due))


@dataclass(frozen=True)
class RepeatedStreamResult:
    done_cycle: int
    command_counts: dict[str, int]
    open_cycles: int
    next_refresh_due: int
    issued_commands: int             # commands the kernel issued one by one (the rest were extrapolated)


@lru_cache(maxsize=64)
def history_horizon(spec: DramSpec) -> np.ndarray:
    """Per command id: cycles after which its issue can no longer bind any later command."""
    (_, _, prev, latency, _, _), _ = constraint_table(spec)
    horizon = np.zeros(len(COMMANDS), np.int64)
    np.maximum.at(horizon, prev, latency)
    return horizon


@dataclass(frozen=True)
class RepeatPlan:
    """A stream's reference repetition and its refresh detours on one spec (pim_repeat.py)."""

    every: int                       # commands between checkpoints
    period: int                      # cycles per in-step repetition (0: no periodic state found)
    rep_open: int                    # open-row cycles per in-step repetition
    arrays: tuple                    # pre, ck_state, ck_t, ck_open, ck_counts, rep_counts, detour


class RepeatPlans:
    """The plans of the last ``keep`` streams run on ``spec``: a device runs the same few streams in
    every layer, and a plan's detours, once recorded, make its later refreshes free. ``shared(spec)``
    is one per spec for the whole process: a plan depends only on the stream and the spec, so the
    components of every step and serving iteration reuse the plans (and detours) of earlier ones.
    It also keeps the last ``keep_results`` run results by (stream, times, refresh phase): an op's
    channel starts fresh and refresh is its only tie to absolute time, and a model's layers and a
    serving run's iterations meet the same few phases (``hits`` and ``misses`` count the lookups)."""

    _shared: dict = {}

    def __init__(self, spec: DramSpec, keep: int = 8, keep_results: int = 1 << 17):
        self.spec, self.keep, self._plans = spec, keep, {}
        self.keep_results, self._results = keep_results, {}
        self.hits = self.misses = 0

    @classmethod
    def shared(cls, spec: DramSpec, keep: int = 24) -> "RepeatPlans":
        """The process-wide plans of ``spec`` (``keep`` bounds the memory: a plan of a long stream
        holds a few MB of checkpoints)."""
        if spec not in cls._shared:
            cls._shared[spec] = cls(spec, keep)
        return cls._shared[spec]

    @classmethod
    def shared_lookups(cls) -> tuple[int, int]:
        """(hits, misses) of the remembered results of every spec's shared plans so far."""
        return sum(p.hits for p in cls._shared.values()), sum(p.misses for p in cls._shared.values())

    def get(self, stream) -> RepeatPlan:
        plan = self._plans.pop(stream.digest, None) or _make_plan(self.spec, list(stream.fields))
        self._plans[stream.digest] = plan                        # most recently used last
        if len(self._plans) > self.keep:
            del self._plans[next(iter(self._plans))]
        return plan

    def result(self, key) -> tuple | None:
        """The result remembered for ``key`` (see ``simulate_repeated``), counted as a hit or a miss."""
        known = self._results.get(key)
        if known is None:
            self.misses += 1
        else:
            self.hits += 1
        return known

    def remember(self, key, result: tuple) -> None:
        self._results[key] = result
        if len(self._results) > self.keep_results:                 # the oldest goes
            del self._results[next(iter(self._results))]


def _make_plan(spec: DramSpec, fields: list[np.ndarray]) -> RepeatPlan:
    """Run the reference (stage 1 of pim_repeat.py); raises IllegalCommand for an illegal stream."""
    cmd = fields[0]
    if np.any(cmd == COMMANDS.index("REF")):
        raise ValueError("a repeated stream may not issue REF itself (it restarts the refresh interval)")
    L, n_cmds, org = len(cmd), len(COMMANDS), spec.org
    table, window = constraint_table(spec)
    every = max(16, L // 256)
    n_ck = -(-L // every)
    size = 4 * org.ranks * org.bankgroups * org.banks_per_group * n_cmds * window + org.ranks * org.bankgroups \
        * org.banks_per_group + 1
    arrays = (np.zeros(L, np.int64), np.empty((n_ck, size), np.int64), np.zeros(n_ck, np.int64),
              np.zeros(n_ck, np.int64), np.zeros((n_ck, n_cmds), np.int64), np.zeros(n_cmds, np.int64),
              np.zeros((L, D_COUNTS + n_cmds), np.int64))
    period, rep_open, bad, code = reference(
        *fields, every, 16, table, history_horizon(spec), n_cmds, window, org.ranks, org.bankgroups,
        org.banks_per_group, spec.standard.refresh_level == "channel", completion_cycles(spec), *arrays[:-1])
    if bad >= 0:
        raise IllegalCommand(bad, COMMANDS[cmd[bad]], pk.ILLEGAL[code])
    return RepeatPlan(every, int(period), int(rep_open), arrays)


def simulate_repeated(spec: DramSpec, stream, times: int, *, refresh: bool = True, start_cycle: int = 0,
                      refresh_due: int | None = None, plans: RepeatPlans | None = None) -> RepeatedStreamResult:
    """``stream`` (a pim_mapping.Stream) issued ``times`` times in a row on one channel, rank 0:
    exactly what simulate_commands gives for ``stream.repeat(times)``, without issuing every command.
    ``plans`` (of this spec) keeps the stream's plan and the run's result, relative to its start, for
    later runs (default: for this run only); a remembered result issues no command."""
    if plans is not None and plans.spec is not spec and plans.spec != spec:
        raise ValueError(f"plans for {plans.spec.name} used on {spec.name}")
    plans = plans or RepeatPlans(spec)
    due = spec["nREFI"] if refresh_due is None else refresh_due
    key = (stream.digest, times, due - start_cycle if refresh else None)
    known, issued = plans.result(key), 0
    if known is None:
        known, issued = _run_repeated(spec, stream, times, refresh, start_cycle, due, plans.get(stream))
        plans.remember(key, known)
    done, counts, open_cycles, next_due = known
    return RepeatedStreamResult(start_cycle + done, dict(zip(COMMANDS, counts)), open_cycles,
                                start_cycle + next_due if refresh else next_due, issued)


def _run_repeated(spec: DramSpec, stream, times: int, refresh: bool, start_cycle: int, due: int,
                  plan: RepeatPlan) -> tuple[tuple, int]:
    """((done cycle, command counts, open-row cycles, next refresh due), all cycles from
    ``start_cycle`` (the due cycle as it is without refresh); commands issued one by one)."""
    org = spec.org
    fields = stream.fields
    table, window = constraint_table(spec)
    counts, open_cycles, done, next_due, issued, bad, code = run_repeated(
        *fields, times, plan.every, table, history_horizon(spec), len(COMMANDS), window, org.ranks,
        org.bankgroups, org.banks_per_group, refresh, spec.standard.refresh_level == "channel", spec["nREFI"],
        start_cycle, due, completion_cycles(spec), plan.period, plan.rep_open, *plan.arrays)
    if bad >= 0:
        raise IllegalCommand(bad, COMMANDS[fields[0][bad % len(stream)]], pk.ILLEGAL[code])
    next_due = int(next_due) - start_cycle if refresh else int(next_due)
    return (int(done) - start_cycle, tuple(counts.tolist()), int(open_cycles), next_due), int(issued)
