"""Numba kernel: one channel's FR-FCFS controller against a compiled timing-constraint table.

Time is in DRAM clock cycles. The loop jumps from one decision point to the next: at cycle ``t`` it
issues at most one command (one command bus), and when nothing can issue it skips straight to the
earliest cycle at which some candidate command, a new arrival or a refresh becomes possible. State
only changes when a command issues, so the skip is exact.

Constraint table (one row per (preceding, following) command pair, grouped by following command):
``c_start[f]:c_start[f+1]`` are the rows that bound command ``f``; row ``k`` says: ``f`` may issue no
earlier than ``latency[k]`` after the ``window[k]``-th most recent ``prev[k]`` at the same node of
``level[k]`` (or, if ``sibling[k]``, the latest ``prev[k]`` at any other rank).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Keep in step with standards.COMMANDS / LEVELS (checked in controller.py).
ACT, PRE, PREA, RD, WR, REF, REFpb = 0, 1, 2, 3, 4, 5, 6
CHANNEL, RANK, BANKGROUP, BANK = 0, 1, 2, 3
NEVER = -(1 << 40)
FOREVER = 1 << 62
HIT, MISS, CONFLICT = 0, 1, 2
OPEN_ROW, CLOSED_ROW = 0, 1
NO_REFRESH, ALL_BANK, PER_BANK = 0, 1, 2


@njit(cache=True)
def _node(level, rank, bg, bank, n_bg, n_ba):
    if level == CHANNEL:
        return 0
    if level == RANK:
        return rank
    if level == BANKGROUP:
        return rank * n_bg + bg
    return (rank * n_bg + bg) * n_ba + bank


@njit(cache=True)
def earliest(cmd, rank, bg, bank, hist, table, n_ranks, n_bg, n_ba):
    """Earliest cycle at which ``cmd`` to (rank, bg, bank) meets every timing constraint."""
    c_start, c_level, c_prev, c_lat, c_win, c_sib = table
    t = 0
    for k in range(c_start[cmd], c_start[cmd + 1]):
        p = c_prev[k]
        if c_sib[k]:
            for r in range(n_ranks):
                if r != rank and hist[RANK, r, p, 0] + c_lat[k] > t:
                    t = hist[RANK, r, p, 0] + c_lat[k]
        else:
            v = hist[c_level[k], _node(c_level[k], rank, bg, bank, n_bg, n_ba), p, c_win[k] - 1] + c_lat[k]
            if v > t:
                t = v
    return t


@njit(cache=True)
def _push(hist, level, node, cmd, t):
    h = hist[level, node, cmd]
    for w in range(h.shape[0] - 1, 0, -1):
        h[w] = h[w - 1]
    h[0] = t


@njit(cache=True)
def record(cmd, t, rank_lo, rank_hi, bg, bank, hist, n_bg, n_ba):
    """Enter an issued command into the history of every node it touches. Bank commands touch one
    rank, bank group and bank; PREA/REF touch the ranks ``rank_lo:rank_hi`` of their refresh group."""
    _push(hist, CHANNEL, 0, cmd, t)
    for r in range(rank_lo, rank_hi):
        _push(hist, RANK, r, cmd, t)
    if bg >= 0:
        _push(hist, BANKGROUP, rank_lo * n_bg + bg, cmd, t)
        _push(hist, BANK, (rank_lo * n_bg + bg) * n_ba + bank, cmd, t)


@njit(cache=True)
def new_history(n_ranks, n_bg, n_ba, n_cmds, window):
    return np.full((4, n_ranks * n_bg * n_ba, n_cmds, window), NEVER, dtype=np.int64)


@njit(cache=True)
def _grow(a):
    b = np.empty(2 * a.shape[0], dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True)
def grow_log(log_t, log_c, log_a):
    """Double the capacity of a command log: issue cycles, commands, [rank, group, bank, row]."""
    bigger = np.empty((2 * log_a.shape[0], 4), dtype=np.int64)
    bigger[: log_a.shape[0]] = log_a
    return _grow(log_t), _grow(log_c), bigger


@njit(cache=True)
def run_channel(arrival, is_write, rank, bg, bank, row, table, n_cmds, window,
                n_ranks, n_bg, n_ba, queue_size, row_policy, refresh_mode, group_is_channel,
                nREFI, nCL, nCWL, nBL):
    """Schedule one channel's requests (sorted by arrival). Returns (data_done_cycle, kind, log, counts)
    where ``log`` = (cycle, command, rank, bankgroup, bank, row) of every issued command."""
    n = arrival.shape[0]
    n_banks = n_ranks * n_bg * n_ba
    hist = new_history(n_ranks, n_bg, n_ba, n_cmds, window)
    open_row = np.full(n_banks, -1, dtype=np.int64)
    bnode = (rank * n_bg + bg) * n_ba + bank
    done_at = np.zeros(n, dtype=np.int64)
    kind = np.full(n, -1, dtype=np.int8)
    counts = np.zeros(n_cmds, dtype=np.int64)
    cap = 3 * n + 64
    log_t = np.empty(cap, dtype=np.int64)
    log_c = np.empty(cap, dtype=np.int64)
    log_a = np.empty((cap, 4), dtype=np.int64)
    n_log = 0

    # refresh groups: every rank alone, or (HBM3) the whole channel at once
    n_groups = 1 if group_is_channel else n_ranks
    ranks_per_group = n_ranks // n_groups
    banks_per_group = ranks_per_group * n_bg * n_ba
    interval = nREFI if refresh_mode != PER_BANK else max(1, nREFI // banks_per_group)
    ref_due = np.full(n_groups, FOREVER if refresh_mode == NO_REFRESH else interval, dtype=np.int64)
    ref_next_bank = np.zeros(n_groups, dtype=np.int64)   # per-bank refresh: round-robin target

    queue = np.empty(queue_size, dtype=np.int64)
    qlen = 0
    next_req = 0
    finished = 0
    hits = np.zeros(n_banks, dtype=np.int64)
    blocked = np.zeros(n_banks, dtype=np.bool_)
    e_cache = np.zeros((n_cmds, n_banks), dtype=np.int64)
    e_stamp = np.full((n_cmds, n_banks), -1, dtype=np.int64)
    version = 0        # bumps on every issue: cached earliest cycles stay valid until then
    t = 0
    while finished < n or (row_policy == CLOSED_ROW and (open_row >= 0).any()):
        while next_req < n and qlen < queue_size and arrival[next_req] <= t:
            queue[qlen] = next_req
            qlen += 1
            next_req += 1
        hits[:] = 0
        for qi in range(qlen):
            r = queue[qi]
            if open_row[bnode[r]] == row[r]:
                hits[bnode[r]] += 1
        best = FOREVER
        cmd = -1
        req = -1
        # --- refresh has priority; banks it needs are blocked for requests -------------------
        blocked[:] = False
        tr = 0
        tg = -1
        tb = -1
        for g in range(n_groups):
            if t < ref_due[g]:
                continue
            lo = g * ranks_per_group
            if refresh_mode == ALL_BANK:
                blocked[lo * n_bg * n_ba: (lo + ranks_per_group) * n_bg * n_ba] = True
                c = REF
                for b in range(lo * n_bg * n_ba, (lo + ranks_per_group) * n_bg * n_ba):
                    if open_row[b] >= 0:
                        c = PREA
                e = earliest(c, lo, 0, 0, hist, table, n_ranks, n_bg, n_ba)
                if cmd < 0 and e <= t:
                    cmd, tr, tg, tb = c, g, -1, -1
            else:
                b = lo * n_bg * n_ba + ref_next_bank[g]
                blocked[b] = True
                rr, rest = b // (n_bg * n_ba), b % (n_bg * n_ba)
                c = PRE if open_row[b] >= 0 else REFpb
                e = earliest(c, rr, rest // n_ba, rest % n_ba, hist, table, n_ranks, n_bg, n_ba)
                if cmd < 0 and e <= t:
                    cmd, tr, tg, tb = c, rr, rest // n_ba, rest % n_ba
            if e > t and e < best:
                best = e
        # --- FR-FCFS: oldest ready row hit, then oldest ready row command ------------------------
        for pass_hits in (True, False):
            if cmd >= 0:
                break
            for qi in range(qlen):
                r = queue[qi]
                b = bnode[r]
                if blocked[b] or (open_row[b] == row[r]) != pass_hits:
                    continue
                if pass_hits:
                    c = WR if is_write[r] else RD
                elif open_row[b] < 0:
                    c = ACT
                elif hits[b] == 0:
                    c = PRE
                else:
                    continue          # never close a row that queued requests still hit
                if e_stamp[c, b] != version:
                    e_stamp[c, b] = version
                    e_cache[c, b] = earliest(c, rank[r], bg[r], bank[r], hist, table, n_ranks, n_bg, n_ba)
                if e_cache[c, b] <= t:
                    cmd, req = c, qi
                    tr, tg, tb = rank[r], bg[r], bank[r]
                    break
                if e_cache[c, b] < best:
                    best = e_cache[c, b]
        # --- closed-row policy: precharge open banks that nothing queued still hits -------------
        if cmd < 0 and row_policy == CLOSED_ROW:
            for b in range(n_banks):
                if open_row[b] < 0 or hits[b] > 0 or blocked[b]:
                    continue
                rr, rest = b // (n_bg * n_ba), b % (n_bg * n_ba)
                e = earliest(PRE, rr, rest // n_ba, rest % n_ba, hist, table, n_ranks, n_bg, n_ba)
                if e <= t:
                    cmd, tr, tg, tb = PRE, rr, rest // n_ba, rest % n_ba
                    break
                if e < best:
                    best = e
        if cmd < 0:
            nxt = best
            if next_req < n and qlen < queue_size and arrival[next_req] < nxt:
                nxt = arrival[next_req]
            for g in range(n_groups):
                if t < ref_due[g] < nxt:
                    nxt = ref_due[g]
            t = max(nxt, t + 1)
            continue
        # --- issue ------------------------------------------------------------------------------
        r = queue[req] if req >= 0 else -1
        log_row = row[r] if r >= 0 else -1
        if cmd == PREA or cmd == REF:
            lo = tr * ranks_per_group
            record(cmd, t, lo, lo + ranks_per_group, -1, -1, hist, n_bg, n_ba)
            if cmd == PREA:
                open_row[lo * n_bg * n_ba: (lo + ranks_per_group) * n_bg * n_ba] = -1
            else:
                ref_due[tr] += interval
            tr, tg, tb = (-1 if group_is_channel else tr), -1, -1
        else:
            record(cmd, t, tr, tr + 1, tg, tb, hist, n_bg, n_ba)
            b = (tr * n_bg + tg) * n_ba + tb
            if cmd == ACT:
                open_row[b] = row[r]
            elif cmd == PRE:
                open_row[b] = -1
            elif cmd == REFpb:
                g = tr // ranks_per_group
                ref_due[g] += interval
                ref_next_bank[g] = (ref_next_bank[g] + 1) % banks_per_group
        if r >= 0:
            if kind[r] < 0:
                kind[r] = HIT if (cmd == RD or cmd == WR) else (MISS if cmd == ACT else CONFLICT)
            if cmd == RD or cmd == WR:
                done_at[r] = t + (nCL if cmd == RD else nCWL) + nBL
                finished += 1
                for qi in range(req, qlen - 1):
                    queue[qi] = queue[qi + 1]
                qlen -= 1
        counts[cmd] += 1
        if n_log == log_t.shape[0]:
            log_t, log_c, log_a = grow_log(log_t, log_c, log_a)
        log_t[n_log] = t
        log_c[n_log] = cmd
        log_a[n_log, 0] = tr
        log_a[n_log, 1] = tg
        log_a[n_log, 2] = tb
        log_a[n_log, 3] = log_row
        n_log += 1
        version += 1
        t += 1
    return done_at, kind, log_t[:n_log], log_c[:n_log], log_a[:n_log], counts
