"""Random PIM command streams that are legal in bank state, for verifying the timing model and the RTL."""

from __future__ import annotations

import numpy as np

from .spec import DramSpec


def random_legal_stream(rng: np.random.Generator, n: int, spec: DramSpec, rows: int = 4):
    """``n`` commands drawn among those the current bank state allows (rows 0..rows-1 of one rank),
    as a list of (command, bankgroup, bank, row). Timing is left to the model."""
    org = spec.org
    banks = org.banks_per_rank
    open_rows = [-1] * banks
    out = []
    for _ in range(n):
        all_open = len(set(open_rows)) == 1 and open_rows[0] >= 0
        none_open = all(r < 0 for r in open_rows)
        choices = ["WR_GB", "RD_MAC", "PREA"]
        choices += ["MAC_ABK", "AF", "EWMUL"] if all_open else []
        choices += ["ACT_ABK", "REF"] if none_open else []
        choices += ["ACT", "PRE", "RD", "WR", "MAC_SBK"]
        c = choices[rng.integers(len(choices))]
        b = int(rng.integers(banks))
        row = int(rng.integers(rows))
        if c in ("RD", "WR", "MAC_SBK", "PRE") and open_rows[b] < 0 or c == "ACT" and open_rows[b] >= 0:
            c = "PREA" if c == "ACT" else "ACT"
        if c in ("RD", "WR", "MAC_SBK"):
            row = open_rows[b]
        if c in ("MAC_ABK", "AF", "EWMUL"):
            row = open_rows[0]
        if c == "ACT":
            open_rows[b] = row
        elif c == "PRE":
            open_rows[b] = -1
        elif c == "PREA":
            open_rows = [-1] * banks
        elif c == "ACT_ABK":
            open_rows = [row] * banks
        out.append((c, b // org.banks_per_group, b % org.banks_per_group, row))
    return out
