"""DRAM standards as data: levels, commands and timing constraints (Ramulator 2.1 style).

A standard says *which* timing rules exist; a preset (see ``presets/``) says *how long* each one is.
The timing engine knows nothing about DDR4 or HBM3: it only reads the compiled constraint table, so a
new standard (or a PIM command such as an all-bank MAC with its own nRCDRDMAC) is added here as data.

Levels, outermost first. A *channel* is one command bus plus one data bus; an HBM pseudo-channel is
modelled as its own channel. *rank* is a rank (DDR, LPDDR) or a stack ID (HBM3 SID).
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("channel", "rank", "bankgroup", "bank")
CHANNEL, RANK, BANKGROUP, BANK = range(4)

# Command ids are global so that one compiled kernel serves every standard. Extend at the end
# (e.g. "MAC_ABK") and give the new command constraints in the standard that supports it.
COMMANDS = ("ACT", "PRE", "PREA", "RD", "WR", "REF", "REFpb")
ACT, PRE, PREA, RD, WR, REF, REFpb = range(7)

# Commands addressed to a refresh group (a rank, or the whole channel for HBM3) rather than a bank.
GROUP_SCOPED = frozenset({"PREA", "REF"})


@dataclass(frozen=True)
class TimingConstraint:
    """``following`` may issue no earlier than ``latency`` cycles after ``preceding`` at ``level``.

    Both commands must target the same node of ``level`` (same rank, same bank, ...), or, with
    ``sibling``, different ranks of the same channel. With ``window`` = w the reference is the w-th
    most recent ``preceding`` command (tFAW: window 4).
    """

    level: str
    preceding: tuple[str, ...]
    following: tuple[str, ...]
    latency: str
    window: int = 1
    sibling: bool = False


def tc(level, preceding, following, latency, window=1, sibling=False) -> TimingConstraint:
    """Short constructor used by the tables below."""
    return TimingConstraint(level, tuple(preceding.split()), tuple(following.split()), latency, window, sibling)


@dataclass(frozen=True)
class Standard:
    """A DRAM standard: the timing names a preset must give and the constraints between commands."""

    name: str
    timing_names: tuple[str, ...]
    constraints: tuple[TimingConstraint, ...]
    refresh_level: str = "rank"          # REF covers one rank, or (HBM3) every SID of the channel

    @property
    def supports_per_bank_refresh(self) -> bool:
        return any("REFpb" in c.following for c in self.constraints)

    def check(self) -> None:
        """Reject malformed tables (a typo here would silently drop a timing rule)."""
        for c in self.constraints:
            where = f"standard {self.name}: constraint {c}"
            if c.level not in LEVELS:
                raise ValueError(f"{where}: unknown level {c.level!r}")
            for cmd in c.preceding + c.following:
                if cmd not in COMMANDS:
                    raise ValueError(f"{where}: unknown command {cmd!r}")
            if c.window < 1 or (c.window > 1 and len(c.preceding) != 1):
                raise ValueError(f"{where}: a window needs exactly one preceding command")
            if c.sibling and (c.level != "rank" or c.window != 1):
                raise ValueError(f"{where}: sibling constraints are rank-level with window 1")
            top = CHANNEL if self.refresh_level == "channel" else RANK
            if any(f in GROUP_SCOPED for f in c.following) and LEVELS.index(c.level) > top:
                raise ValueError(f"{where}: PREA/REF cover a whole {self.refresh_level}")


BASE_TIMINGS = (
    "nBL", "nCL", "nCWL", "nRCD", "nRCDWR", "nRP", "nRPab", "nRAS", "nRC", "nWR", "nRTP",
    "nCCDS", "nCCDL", "nRRDS", "nRRDL", "nWTRS", "nWTRL", "nFAW", "nRFC", "nREFI",
)


def _core(row: str) -> list[TimingConstraint]:
    """Rules every JEDEC standard here shares. ``row`` is the level that owns the ACT budget
    (tRRD_S, tFAW) and all-bank precharge/refresh: the rank, or the channel for HBM3."""
    return [
        # data bus occupancy (one bus per channel)
        tc("channel", "RD", "RD", "nBL"),
        tc("channel", "WR", "WR", "nBL"),
        # column-to-column
        tc("rank", "RD", "RD", "nCCDS"),
        tc("rank", "WR", "WR", "nCCDS"),
        tc("rank", "WR", "RD", "nCWL + nBL + nWTRS"),
        tc("bankgroup", "RD", "RD", "nCCDL"),
        tc("bankgroup", "WR", "WR", "nCCDL"),
        tc("bankgroup", "WR", "RD", "nCWL + nBL + nWTRL"),
        # row-to-row
        tc(row, "ACT", "ACT", "nRRDS"),
        tc(row, "ACT", "ACT", "nFAW", window=4),
        tc("bankgroup", "ACT", "ACT", "nRRDL"),
        tc("bank", "ACT", "ACT", "nRC"),
        # bank cycle
        tc("bank", "ACT", "RD", "nRCD"),
        tc("bank", "ACT", "WR", "nRCDWR"),
        tc("bank", "ACT", "PRE", "nRAS"),
        tc("bank", "PRE", "ACT", "nRP"),
        tc("bank", "RD", "PRE", "nRTP"),
        tc("bank", "WR", "PRE", "nCWL + nBL + nWR"),
        # all-bank precharge and all-bank refresh
        tc(row, "ACT", "PREA", "nRAS"),
        tc(row, "RD", "PREA", "nRTP"),
        tc(row, "WR", "PREA", "nCWL + nBL + nWR"),
        tc(row, "PREA", "ACT REF", "nRPab"),
        tc(row, "PRE", "REF", "nRP"),
        tc(row, "ACT", "REF", "nRC"),
        tc(row, "REF", "ACT PREA REF", "nRFC"),
    ]


PER_BANK_REFRESH_TIMINGS = ("nRFCpb", "nRREFD")


def _per_bank_refresh(row: str) -> list[TimingConstraint]:
    """Per-bank refresh (REFpb): the bank must be precharged and stays busy nRFCpb."""
    return [
        tc("bank", "PRE", "REFpb", "nRP"),
        tc("bank", "ACT", "REFpb", "nRC"),
        tc("bank", "REFpb", "ACT REFpb", "nRFCpb"),
        tc(row, "REFpb", "REFpb ACT", "nRREFD"),
        tc(row, "REFpb", "REF", "nRFCpb"),
    ]

RANK_SWITCH = [  # extra data-bus cycles when consecutive bursts come from different ranks
    tc("rank", "RD", "RD WR", "nBL + nCS", sibling=True),
    tc("rank", "WR", "RD", "nCL + nBL + nCS - nCWL", sibling=True),
]


def _standard(name, extra_timings, constraints, refresh_level="rank") -> Standard:
    std = Standard(name, BASE_TIMINGS + tuple(extra_timings), tuple(constraints), refresh_level)
    std.check()
    return std


# Sources: Ramulator 2.1 python/ramulator/dram/<std>.py @ c5b1c3a (constraint lists); the read-to-write
# turnaround differs per standard and is given explicitly.
STANDARDS: dict[str, Standard] = {
    s.name: s
    for s in (
        _standard("DDR4", ["nCS"],
                  _core("rank") + RANK_SWITCH + [tc("rank", "RD", "WR", "nCL + nBL + 2 - nCWL")]),
        _standard("DDR5", ["nCS", "nCCDL_WR"],
                  _core("rank") + RANK_SWITCH + [tc("rank", "RD", "WR", "nCL + nBL + 4 - nCWL"),
                                                 tc("bankgroup", "WR", "WR", "nCCDL_WR")]),
        _standard("LPDDR5", ["nCS", *PER_BANK_REFRESH_TIMINGS],
                  _core("rank") + RANK_SWITCH + _per_bank_refresh("rank")
                  + [tc("rank", "RD", "WR", "nCL + nBL + 2 - nCWL")]),
        _standard("GDDR6", PER_BANK_REFRESH_TIMINGS,
                  _core("rank") + _per_bank_refresh("rank") + [tc("rank", "RD", "WR", "nCL + 1")]),
        _standard("HBM2", PER_BANK_REFRESH_TIMINGS,
                  _core("rank") + _per_bank_refresh("rank") + [tc("rank", "RD", "WR", "nCL + nBL + 2 - nCWL")]),
        _standard("HBM3", ["nCCDR", "nRTW", *PER_BANK_REFRESH_TIMINGS],
                  _core("channel") + _per_bank_refresh("channel")
                  + [tc("channel", "RD", "WR", "nRTW"), tc("rank", "RD", "RD", "nCCDR", sibling=True)],
                  refresh_level="channel"),
    )
}
