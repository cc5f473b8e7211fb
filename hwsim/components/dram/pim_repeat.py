"""A PIM command stream repeated many times (a matmul's GEMV once per input row), timed exactly
without issuing every command.

The in-order kernel is deterministic and shift-invariant: apart from refresh (due at absolute cycles)
its future depends only on its state relative to the current cycle t — timing history minus t,
open rows, completion cycle minus t. History entries older than the longest constraint that reads
them can never bind again and are clamped, so two states that behave identically compare equal.

1. Reference: the base stream repeated without refresh until the state at a repetition boundary
   equals the previous one (shifted). One more repetition from that periodic state records every
   command's pre-issue cycle offset and, every ``K`` commands, a checkpoint (relative state,
   cycle offset, cumulative command counts and open-row cycles).
2. Run: the commands are issued one by one (refresh included) until the state at a checkpoint equals
   the reference's. From there the timeline is the reference shifted, so the run jumps to the last
   checkpoint before the first command at whose pre-issue cycle a refresh is due (or the last
   checkpoint of the stream), restores the reference state there and issues commands again: through
   the refresh and its disturbance until the state is back in step with the reference.
Every jump lands on a state the full simulation would have (equal up to never-binding history), so
done cycle, command counts, open-row cycles and the refresh phase are exact.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .pim_kernel import DONE, N_OPEN, OK, OPEN_CYCLES, OPEN_SINCE, T, _check, due_refresh, earliest_issue, issue
from .timing_kernel import FOREVER, NEVER, new_history


@njit(cache=True)
def _step(x, cmd, rank, bg, bank, row, acc, hist, open_row, counts, ref_due, pending, table, completion,
          n_ranks, n_bg, n_ba, ranks_per_group, nREFI):
    """Issue command ``x mod len(cmd)``, preceded by a refresh if one is due; returns the legality code."""
    i = x % cmd.shape[0]
    code = _check(cmd[i], rank[i], (rank[i] * n_bg + bg[i]) * n_ba + bank[i], row[i], open_row, n_bg * n_ba,
                  ranks_per_group)
    if code != OK:
        return code
    n_pend = due_refresh(acc[T], ref_due, nREFI, ranks_per_group, n_bg * n_ba, n_ba, open_row, pending)
    for j in range(n_pend + 1):
        if j < n_pend:
            c, r, g_, k_, rw = pending[j, 0], pending[j, 1], pending[j, 2], pending[j, 3], pending[j, 4]
        else:
            c, r, g_, k_, rw = cmd[i], rank[i], bg[i], bank[i], row[i]
        t = earliest_issue(c, r, g_, k_, acc, hist, table, n_ranks, n_bg, n_ba, ranks_per_group)
        issue(c, r, g_, k_, rw, t, acc, hist, open_row, counts, completion, n_bg, n_ba, ranks_per_group)
    return OK


@njit(cache=True)
def _relative(acc, hist, open_row, horizon, out):
    """The state relative to ``acc[T]`` into ``out``: history clamped at -horizon[command], open rows,
    completion cycle minus t."""
    t = acc[T]
    k = 0
    for lv in range(hist.shape[0]):
        for nd in range(hist.shape[1]):
            for c in range(hist.shape[2]):
                for w in range(hist.shape[3]):
                    out[k] = max(hist[lv, nd, c, w] - t, -horizon[c])
                    k += 1
    for b in range(open_row.shape[0]):
        out[k + b] = open_row[b]
    out[k + open_row.shape[0]] = acc[DONE] - t


@njit(cache=True)
def _restore(rel, t, acc, hist, open_row):
    """Set the state to the relative state ``rel`` at cycle t (open-row time is re-based at t)."""
    k = 0
    for lv in range(hist.shape[0]):
        for nd in range(hist.shape[1]):
            for c in range(hist.shape[2]):
                for w in range(hist.shape[3]):
                    hist[lv, nd, c, w] = rel[k] + t
                    k += 1
    n_open = 0
    for b in range(open_row.shape[0]):
        open_row[b] = rel[k + b]
        n_open += open_row[b] >= 0
    acc[T] = t
    acc[DONE] = rel[k + open_row.shape[0]] + t
    acc[N_OPEN] = n_open
    acc[OPEN_SINCE] = t


@njit(cache=True)
def _open_total(acc):
    """Open-row cycles up to ``acc[T]``."""
    return acc[OPEN_CYCLES] + (acc[T] - acc[OPEN_SINCE] if acc[N_OPEN] > 0 else 0)


@njit(cache=True)
def _matches(acc, hist, open_row, horizon, rel):
    """Whether the state relative to ``acc[T]`` is ``rel`` (see _relative); stops at the first difference."""
    t = acc[T]
    k = hist.size
    if acc[DONE] - t != rel[k + open_row.shape[0]]:
        return False
    for b in range(open_row.shape[0]):
        if open_row[b] != rel[k + b]:
            return False
    k = 0
    for lv in range(hist.shape[0]):
        for nd in range(hist.shape[1]):
            for c in range(hist.shape[2]):
                for w in range(hist.shape[3]):
                    if max(hist[lv, nd, c, w] - t, -horizon[c]) != rel[k]:
                        return False
                    k += 1
    return True


@njit(cache=True)
def run_repeated(cmd, rank, bg, bank, row, times, every, max_warmup, table, horizon, n_cmds, window, n_ranks, n_bg,
                 n_ba, refresh, group_is_channel, nREFI, t0, ref_due0, completion):
    """Issue the stream ``times`` times in order from cycle ``t0`` (see the module docstring).
    Returns (command counts, open-row cycles, done cycle, next refresh due, commands issued one by one,
    index of the first illegal command or -1, its reason code)."""
    L = cmd.shape[0]
    N = L * times
    per_rank = n_bg * n_ba
    n_banks = n_ranks * per_rank
    n_groups = 1 if group_is_channel else n_ranks
    ranks_per_group = n_ranks // n_groups
    size = 4 * n_banks * n_cmds * window + n_banks + 1
    pending = np.empty((n_banks + 2, 5), dtype=np.int64)
    hist = new_history(n_ranks, n_bg, n_ba, n_cmds, window)
    open_row = np.full(n_banks, -1, dtype=np.int64)
    acc = np.array([0, 0, 0, 0, 0], dtype=np.int64)
    counts = np.zeros(n_cmds, dtype=np.int64)
    no_refresh = np.full(n_groups, FOREVER, dtype=np.int64)

    # --- 1. reference: repeat without refresh until a repetition boundary state recurs ----------------
    n_ck = (L + every - 1) // every
    ck_state = np.empty((n_ck, size), dtype=np.int64)
    ck_t = np.zeros(n_ck, dtype=np.int64)
    ck_open = np.zeros(n_ck, dtype=np.int64)
    ck_counts = np.zeros((n_ck, n_cmds), dtype=np.int64)
    pre = np.zeros(L, dtype=np.int64)              # pre-issue cycle of each command from the repetition start
    prev = np.empty(size, dtype=np.int64)
    periodic = False
    for rep in range(max_warmup):
        if rep > 0 and _matches(acc, hist, open_row, horizon, prev):
            periodic = True
            break
        _relative(acc, hist, open_row, horizon, prev)
        for x in range(L):
            code = _step(x, cmd, rank, bg, bank, row, acc, hist, open_row, counts, no_refresh, pending, table,
                         completion, n_ranks, n_bg, n_ba, ranks_per_group, nREFI)
            if code != OK:
                return counts, 0, 0, ref_due0, 0, x, code
    period = 0
    rep_open = 0
    rep_counts = np.zeros(n_cmds, dtype=np.int64)
    if periodic:
        t_start, open_start = acc[T], _open_total(acc)
        counts[:] = 0
        for x in range(L):
            pre[x] = acc[T] - t_start
            if x % every == 0:
                _relative(acc, hist, open_row, horizon, ck_state[x // every])
                ck_t[x // every] = acc[T] - t_start
                ck_open[x // every] = _open_total(acc) - open_start
                ck_counts[x // every] = counts
            _step(x, cmd, rank, bg, bank, row, acc, hist, open_row, counts, no_refresh, pending, table, completion,
                  n_ranks, n_bg, n_ba, ranks_per_group, nREFI)
        period, rep_open, rep_counts[:] = acc[T] - t_start, _open_total(acc) - open_start, counts

    # --- 2. the run: one by one while out of step, jumps while in step --------------------------------
    hist[:] = NEVER
    open_row[:] = -1
    acc[:] = 0
    acc[T] = acc[DONE] = t0
    counts[:] = 0
    ref_due = np.full(n_groups, ref_due0 if refresh else FOREVER, dtype=np.int64)
    explicit = 0
    check_from = 0                    # no jump before the refresh found due at the last jump has issued
    x = 0
    while x < N:
        i = x % L
        if periodic and i % every == 0 and x >= check_from:
            if _matches(acc, hist, open_row, horizon, ck_state[i // every]):
                shift = acc[T] - (x // L * period + ck_t[i // every])
                # first command (>= x) whose pre-issue cycle reaches the next refresh, or N
                due = ref_due.min() - shift
                f = N
                if due < FOREVER // 2:
                    rep = max(x // L, (due - pre[L - 1]) // period)
                    while rep * L < N:
                        j = np.searchsorted(pre, due - rep * period)
                        if j < L and rep * L + j >= x:
                            f = rep * L + j
                            break
                        if j < L:        # due already: it is command x
                            f = x
                            break
                        rep += 1
                land = min(f, N - 1)
                land -= land % L % every
                check_from = f + 1
                if land > x:
                    a, b = i // every, land % L // every
                    counts += (land // L - x // L) * rep_counts + ck_counts[b] - ck_counts[a]
                    opened = _open_total(acc) + (land // L - x // L) * rep_open + ck_open[b] - ck_open[a]
                    _restore(ck_state[b], (land // L) * period + ck_t[b] + shift, acc, hist, open_row)
                    acc[OPEN_CYCLES] = opened
                    x = land
                    continue
        code = _step(x, cmd, rank, bg, bank, row, acc, hist, open_row, counts, ref_due, pending, table, completion,
                     n_ranks, n_bg, n_ba, ranks_per_group, nREFI)
        if code != OK:
            return counts, 0, 0, ref_due.min(), explicit, x, code
        explicit += 1
        x += 1
    if acc[N_OPEN] > 0:
        acc[OPEN_CYCLES] += acc[DONE] - acc[OPEN_SINCE]
    return counts, acc[OPEN_CYCLES], acc[DONE], ref_due.min(), explicit, -1, OK
