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
# and give the new command constraints in the standard that supports it.
# PIM commands (AiM-like, SK hynix GDDR6-AiM ISR names): ACT_ABK opens one row in every bank of a
# rank; MAC_ABK multiplies one column of every bank with the global buffer (GB) and accumulates in
# each bank's MAC register; MAC_SBK does it in one bank; WR_GB writes one burst into the GB over
# the pins; RD_MAC reads all banks' MAC registers over the pins; AF applies the activation
# function to the MAC registers; EWMUL multiplies element-wise in the banks.
COMMANDS = ("ACT", "PRE", "PREA", "RD", "WR", "REF", "REFpb",
            "ACT_ABK", "MAC_ABK", "MAC_SBK", "WR_GB", "RD_MAC", "AF", "EWMUL")
ACT, PRE, PREA, RD, WR, REF, REFpb, ACT_ABK, MAC_ABK, MAC_SBK, WR_GB, RD_MAC, AF, EWMUL = range(14)

# Commands addressed to a refresh group (a rank, or the whole channel for HBM3) rather than a bank.
GROUP_SCOPED = frozenset({"PREA", "REF"})
# PIM commands addressed to every bank of one rank at once (no bank group or bank).
ALL_BANK = frozenset({"ACT_ABK", "MAC_ABK", "WR_GB", "RD_MAC", "AF", "EWMUL"})

# Cycles from issue until a command's effect is complete (data beat, precharge, refresh), used to
# time the end of an in-order command stream. Commands not listed complete 1 cycle after issue.
COMPLETION = {"RD": "nCL + nBL", "WR": "nCWL + nBL", "PRE": "nRP", "PREA": "nRPab", "REF": "nRFC",
              "REFpb": "nRFCpb", "WR_GB": "nCWL + nBL", "RD_MAC": "nBL"}


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
            if any(f in ALL_BANK for f in c.following) and LEVELS.index(c.level) > RANK:
                raise ValueError(f"{where}: all-bank PIM commands are bounded at rank or channel level")


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


PIM_TIMINGS = ("nRCDRDMAC", "nCCDAB", "nRCDRDAF", "nRCDEWMUL")


def _pim(row: str) -> list[TimingConstraint]:
    """AiM-like PIM commands on top of a standard (rules after aim_simulator's GDDR6 AiM constraint
    list, arkhadem/aim_simulator src/dram/impl/GDDR6.cpp). All-bank commands are bounded at rank
    level by every bank's commands. nCCDAB spaces all-bank MACs: nCCDL on AiM, stretched on
    power-limited HBM3-PIM (AttAcc nCCDAB)."""
    column = "RD MAC_SBK RD_MAC"
    return [
        # all-bank activate: like ACT, but every bank of the rank
        tc(row, "ACT ACT_ABK", "ACT_ABK", "nRRDL"),
        tc(row, "ACT_ABK", "ACT", "nRRDL"),
        tc("rank", "ACT_ABK", "ACT_ABK", "nRC"),
        tc("rank", "PRE", "ACT_ABK", "nRP"),
        tc(row, "PREA", "ACT_ABK", "nRPab"),
        tc(row, "REF", "ACT_ABK", "nRFC"),
        tc(row, "ACT_ABK", "REF", "nRC"),
        tc("rank", "ACT_ABK", "PRE", "nRAS"),
        tc(row, "ACT_ABK", "PREA", "nRAS"),
        tc("rank", "ACT_ABK", "RD", "nRCD"),
        tc("rank", "ACT_ABK", "WR", "nRCDWR"),
        # row to PIM column command
        tc("rank", "ACT ACT_ABK", "MAC_ABK", "nRCDRDMAC"),
        tc("rank", "ACT_ABK", "MAC_SBK", "nRCDRDMAC"),
        tc("bank", "ACT", "MAC_SBK", "nRCDRDMAC"),
        tc("rank", "ACT ACT_ABK", "AF", "nRCDRDAF"),
        tc("rank", "ACT ACT_ABK", "EWMUL", "nRCDEWMUL"),
        # column to column: the all-bank commands use every bank group's internal bus
        tc("rank", "MAC_ABK", "MAC_ABK", "nCCDAB"),
        tc("rank", column + " AF EWMUL", "AF EWMUL", "nCCDL"),
        tc("rank", column + " AF EWMUL", "MAC_ABK", "nCCDL"),
        tc("rank", "MAC_ABK AF EWMUL", column, "nCCDL"),
        tc("bankgroup", "RD MAC_SBK", "MAC_SBK", "nCCDL"),
        tc("bankgroup", "MAC_SBK", "RD", "nCCDL"),
        tc("rank", "RD MAC_SBK", "MAC_SBK", "nCCDS"),
        tc("rank", "MAC_SBK", "RD", "nCCDS"),
        # pins: MAC results out, global-buffer data in
        tc("channel", "RD RD_MAC", "RD_MAC", "nBL"),
        tc("channel", "RD_MAC", "RD", "nBL"),
        tc("channel", "WR WR_GB", "WR_GB", "nBL"),
        tc("channel", "WR_GB", "WR", "nBL"),
        tc("channel", "WR_GB", "MAC_ABK MAC_SBK EWMUL", "nCWL + nBL"),   # the GB holds the data
        tc("channel", "WR WR_GB", "RD_MAC", "nCWL + nBL + nWTRS"),
        tc("channel", "WR_GB", "RD", "nCWL + nBL + nWTRS"),
        tc("channel", "RD_MAC", "WR WR_GB", "nBL + 2"),
        tc("channel", "RD", "WR_GB", "nCL + nBL + 2 - nCWL"),
        # column to precharge
        tc("rank", "MAC_ABK AF", "PRE", "nRTP"),
        tc(row, "MAC_ABK AF MAC_SBK", "PREA", "nRTP"),
        tc("rank", "EWMUL", "PRE", "nCWL + nWR"),
        tc(row, "EWMUL", "PREA", "nCWL + nWR"),
        tc("bank", "MAC_SBK", "PRE", "nRTP"),
    ]


# AiM register-mode switch (TMOD): AiM's controller runs the global-buffer and MAC-register transfers
# (WR_GB, RD_MAC) in a register mode and every other command in bank mode; a TMOD command issued when
# the next command is otherwise ready switches modes and holds the channel for nMODCH cycles
# (aim_simulator AiM_dram_controller.cpp is_reg_RW_mode / GDDR6.cpp TMOD -> any command nMODCH). As
# pairwise rules: the first command in the other mode waits its own readiness + nMODCH. nMODCH = 0
# makes them no-ops (controllers that do not switch modes, e.g. PIM-GPT's).
REGISTER_MODE = "WR_GB RD_MAC"
BANK_MODE = "ACT PRE PREA RD WR ACT_ABK MAC_ABK MAC_SBK AF EWMUL"
MODE_SWITCH = [
    tc("rank", REGISTER_MODE, BANK_MODE, "nMODCH + 1"),
    tc("rank", "WR_GB", "MAC_ABK MAC_SBK EWMUL", "nCWL + nBL + nMODCH"),
    tc("rank", BANK_MODE, REGISTER_MODE, "nMODCH + 1"),
    tc("rank", "MAC_ABK AF EWMUL", "RD_MAC", "nCCDL + nMODCH"),
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
        # PIM standards: the base standard plus the PIM command set and its timings
        _standard("GDDR6_AiM", PER_BANK_REFRESH_TIMINGS + PIM_TIMINGS + ("nMODCH",),
                  _core("rank") + _per_bank_refresh("rank") + [tc("rank", "RD", "WR", "nCL + 1")]
                  + _pim("rank") + MODE_SWITCH),
        _standard("HBM2_PIM", PER_BANK_REFRESH_TIMINGS + PIM_TIMINGS,
                  _core("rank") + _per_bank_refresh("rank") + [tc("rank", "RD", "WR", "nCL + nBL + 2 - nCWL")]
                  + _pim("rank")),
        _standard("HBM3_PIM", ["nCCDR", "nRTW", *PER_BANK_REFRESH_TIMINGS, *PIM_TIMINGS],
                  _core("channel") + _per_bank_refresh("channel")
                  + [tc("channel", "RD", "WR", "nRTW"), tc("rank", "RD", "RD", "nCCDR", sibling=True)]
                  + _pim("channel"),
                  refresh_level="channel"),
    )
}
