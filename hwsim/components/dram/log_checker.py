"""Slow, independent check of a command log against a standard's rules (for tests and debugging).

Pure Python over the standard's constraint list, sharing no code with the numba kernel: every pair of
commands closer than the longest latency is checked against every constraint, plus bank-state rules
(RD/WR/MAC_SBK only to the open row, ACT only to a closed bank, REF only when its banks are closed,
ACT_ABK only when the rank is closed, MAC_ABK/AF/EWMUL only when every bank of the rank has the row
open) and one command per cycle.
"""

from __future__ import annotations

from .controller import CommandLog
from .spec import DramSpec
from .standards import ALL_BANK, GROUP_SCOPED


def _relation_holds(c, a, b) -> bool:
    """Does constraint ``c`` relate command targets a and b? A target is (rank, bg, bank); None
    entries mean "whole group" (PREA/REF) and relate at rank and channel level only."""
    if c.level == "channel":
        return True
    if a[0] is None or b[0] is None:          # channel-wide refresh relates only at channel level
        return False
    if c.sibling:
        return a[0] != b[0]
    if c.level == "rank":
        return a[0] == b[0]
    if a[1] is None or b[1] is None:
        return False
    if c.level == "bankgroup":
        return a[:2] == b[:2]
    return a == b


def check_log(spec: DramSpec, log: CommandLog) -> list[str]:
    """Return a list of violations (empty when the log is legal)."""
    rules = [(c, p, f, spec.latency(c.latency)) for c in spec.standard.constraints
             for p in c.preceding for f in c.following]
    horizon = max(lat for *_, lat in rules)
    org = spec.org
    channel_refresh = spec.standard.refresh_level == "channel"
    cmds = list(zip(log.cycle.tolist(), log.names(), log.rank.tolist(), log.bankgroup.tolist(),
                    log.bank.tolist(), log.row.tolist()))
    by_pair: dict[tuple[str, str], list] = {}
    for rule in rules:
        by_pair.setdefault((rule[1], rule[2]), []).append(rule)
    errors = []
    open_rows: dict[tuple, int] = {}
    for j, (t, name, r, g, b, row) in enumerate(cmds):
        group = name in GROUP_SCOPED or name in ALL_BANK
        target = (None if r < 0 else r, None, None) if group else (r, g, b)
        if j and cmds[j - 1][0] >= t:
            errors.append(f"#{j} {name}@{t}: not after the previous command")
        seen = {}
        for i in range(j - 1, -1, -1):
            ti, ni, ri, gi, bi, _ = cmds[i]
            if t - ti > horizon:
                break
            tgt = (None if ri < 0 else ri, None, None) if ni in GROUP_SCOPED or ni in ALL_BANK else (ri, gi, bi)
            for c, p, f, lat in by_pair.get((ni, name), ()):
                if not _relation_holds(c, tgt, target):
                    continue
                seen[id(c), p] = n_seen = seen.get((id(c), p), 0) + 1
                if n_seen == c.window and t - ti < lat:
                    errors.append(f"#{j} {name}@{t} after {p}@{ti}: {c.latency} = {lat} ({c.level})")
        ranks = range(org.ranks) if channel_refresh or r < 0 else [r]
        if name == "ACT":
            if (r, g, b) in open_rows:
                errors.append(f"#{j} ACT@{t} to an open bank")
            open_rows[(r, g, b)] = row
        elif name == "ACT_ABK":
            if any(k[0] == r for k in open_rows):
                errors.append(f"#{j} ACT_ABK@{t} to rank {r} with open banks")
            open_rows.update({(r, bg, ba): row for bg in range(org.bankgroups) for ba in range(org.banks_per_group)})
        elif name in ("MAC_ABK", "AF", "EWMUL") and any(
                open_rows.get((r, bg, ba)) != row for bg in range(org.bankgroups) for ba in range(org.banks_per_group)):
            errors.append(f"#{j} {name}@{t} to row {row} but not every bank of rank {r} has it open")
        elif name in ("RD", "WR", "MAC_SBK") and open_rows.get((r, g, b)) != row:
            errors.append(f"#{j} {name}@{t} to row {row} but open row is {open_rows.get((r, g, b))}")
        elif name == "PRE":
            open_rows.pop((r, g, b), None)
        elif name == "PREA":
            open_rows = {k: v for k, v in open_rows.items() if k[0] not in ranks}
        elif name == "REF" and any(k[0] in ranks for k in open_rows):
            errors.append(f"#{j} REF@{t} with open banks {sorted(open_rows)}")
        elif name == "REFpb" and (r, g, b) in open_rows:
            errors.append(f"#{j} REFpb@{t} to an open bank")
    return errors

