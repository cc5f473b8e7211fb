"""A PIM command stream repeated many times (a matmul's GEMV once per input row), timed exactly
without issuing every command.

The in-order kernel is deterministic and shift-invariant: apart from refresh (due at absolute cycles)
its future depends only on its state relative to the current cycle t — timing history minus t,
open rows, completion cycle minus t. History entries older than the longest constraint that reads
them can never bind again and are clamped, so two states that behave identically compare equal.

1. Reference (``reference``): the base stream repeated without refresh until the state at a
   repetition boundary equals the previous one (shifted). Each repetition records every command's
   pre-issue cycle offset and, every ``K`` commands, a checkpoint (relative state, cycle offset,
   cumulative command counts and open-row cycles); the first after the one from the empty state
   that ends in the state it started from (a periodic state) is the reference.
2. Run (``run_repeated``): the commands are issued one by one (refresh included) until the state at
   a checkpoint equals the reference's. From there the timeline is the reference shifted ("in step";
   the state is not even materialised), so the run jumps to the last checkpoint before the first
   command f at whose pre-issue cycle a refresh is due. There it restores the reference state and
   issues commands again: through the refresh and its disturbance until the state is back in step.
3. Detours: that stretch, from the landing checkpoint to the checkpoint where the state is back in
   step, depends only on f mod L (the state before f is the reference's, the refresh issues at the
   command's pre-issue cycle whatever its exact due cycle, and nothing else is due until the next
   refresh). Its length, cycles, counts and open-row cycles are recorded per f mod L and replayed
   while the next refresh is not due before its last command: then a refresh costs no commands.
4. Cycles: between two replayed detours the run's state is its command index mod L and the next
   refresh's due cycle relative to the in-step timeline; the next such state follows from it alone
   (the reference, the detours and the refresh interval are fixed while only detours are
   replayed). When a state recurs, the detours since its last visit repeat with everything shifted
   by whole repetitions: the run jumps over as many whole cycles as fit before its end (a long
   prefill GEMV meets thousands of refreshes, in a cycle of a few).
Every jump lands on a state the full simulation would have (equal up to never-binding history), so
done cycle, command counts, open-row cycles and the refresh phase are exact. A plan (reference and
detours) depends only on the stream and the spec, so one plan serves every run of that stream.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .pim_kernel import (DONE, N_OPEN, OK, OPEN_CYCLES, OPEN_SINCE, REF, T, _check, due_refresh, earliest_issue,
                         empty_state, issue)
from .timing_kernel import FOREVER


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


# columns of a detour record (one row per f mod L): commands from the landing checkpoint to the
# checkpoint back in step (0: none recorded), cycles between them, pre-issue cycle of its last
# command from the landing cycle, open-row cycles, then the command counts
D_LEN, D_CYCLES, D_LAST, D_OPEN, D_COUNTS = range(5)


@njit(cache=True)
def reference(cmd, rank, bg, bank, row, every, max_warmup, table, horizon, n_cmds, window, n_ranks, n_bg, n_ba,
              group_is_channel, completion, pre, ck_state, ck_t, ck_open, ck_counts, rep_counts):
    """Stage 1 (module docstring): fill ``pre`` (pre-issue cycle of each command from the repetition
    start), the checkpoints ``ck_*`` every ``every`` commands and ``rep_counts`` (counts per repetition).
    Every repetition after the first is recorded as it runs and kept once the state after it is the
    state before it (relative), so the periodic repetition is recorded as it is found, not run again.
    Returns (cycles per repetition, 0 if no periodic state within ``max_warmup`` repetitions;
    open-row cycles per repetition; index of the first illegal command or -1; its reason code)."""
    L = cmd.shape[0]
    pending, hist, open_row, n_groups, ranks_per_group = empty_state(n_ranks, n_bg, n_ba, n_cmds, window,
                                                                      group_is_channel)
    acc = np.zeros(5, dtype=np.int64)
    counts = np.zeros(n_cmds, dtype=np.int64)
    no_refresh = np.full(n_groups, FOREVER, dtype=np.int64)
    for x in range(L):                   # from the empty state (periodic only if the next one is too)
        code = _step(x, cmd, rank, bg, bank, row, acc, hist, open_row, counts, no_refresh, pending, table,
                     completion, n_ranks, n_bg, n_ba, ranks_per_group, 0)
        if code != OK:
            return 0, 0, x, code
    for rep in range(1, max_warmup - 1):
        t_start, open_start = acc[T], _open_total(acc)
        counts[:] = 0
        for x in range(L):
            pre[x] = acc[T] - t_start
            if x % every == 0:
                _relative(acc, hist, open_row, horizon, ck_state[x // every])
                ck_t[x // every] = acc[T] - t_start
                ck_open[x // every] = _open_total(acc) - open_start
                ck_counts[x // every] = counts
            code = _step(x, cmd, rank, bg, bank, row, acc, hist, open_row, counts, no_refresh, pending, table,
                         completion, n_ranks, n_bg, n_ba, ranks_per_group, 0)
            if code != OK:
                return 0, 0, x, code
        if _matches(acc, hist, open_row, horizon, ck_state[0]):
            rep_counts[:] = counts
            return acc[T] - t_start, _open_total(acc) - open_start, -1, OK
    return 0, 0, -1, OK


@njit(cache=True)
def _first_due(due, x, N, pre, period):
    """First command index >= x whose in-step pre-issue cycle (``pre`` repeated every ``period``
    cycles, shift removed) reaches ``due``; x if it is due already, N if none is."""
    L = pre.shape[0]
    if due >= FOREVER // 2:
        return N
    rep = max(x // L, (due - pre[L - 1]) // period)
    while rep * L < N:
        j = np.searchsorted(pre, due - rep * period)
        if j < L:
            return max(rep * L + j, x)
        rep += 1
    return N


@njit(cache=True)
def run_repeated(cmd, rank, bg, bank, row, times, every, table, horizon, n_cmds, window, n_ranks, n_bg, n_ba,
                 refresh, group_is_channel, nREFI, t0, ref_due0, completion, period, rep_open, pre, ck_state, ck_t,
                 ck_open, ck_counts, rep_counts, detour):
    """Issue the stream ``times`` times in order from cycle ``t0`` (stages 2 and 3 of the module
    docstring) with the reference of ``reference`` (``period`` 0: none, every command is issued).
    New detours are recorded into ``detour``. Returns (command counts, open-row cycles, done cycle,
    next refresh due, commands issued one by one, index of the first illegal command or -1, its
    reason code)."""
    L = cmd.shape[0]
    N = L * times
    pending, hist, open_row, n_groups, ranks_per_group = empty_state(n_ranks, n_bg, n_ba, n_cmds, window,
                                                                      group_is_channel)
    acc = np.array([t0, t0, 0, 0, 0], dtype=np.int64)
    counts = np.zeros(n_cmds, dtype=np.int64)
    ref_due = np.full(n_groups, ref_due0 if refresh else FOREVER, dtype=np.int64)
    use_detours = n_groups == 1                  # one refresh due at a time
    # stage 4: a snapshot per command index mod L of the state at a replayed detour's start (long runs only)
    track = use_detours and refresh and period > 0 and N // L * period > 64 * nREFI
    slots = L if track else 1
    seen_run = np.full(slots, -1, dtype=np.int64)
    seen = np.zeros((slots, 5), dtype=np.int64)            # x, relative due, ref_due, shift, open-row cycles
    seen_counts = np.zeros((slots, n_cmds), dtype=np.int64)
    run_id = 0                                   # snapshots of an earlier stretch of replayed detours are stale
    explicit = 0
    in_step = False          # the state at x is the reference's at x mod L, ``shift`` cycles later
    shift = opened = 0       # (in step) cycle shift, open-row cycles up to x
    check_from = 0           # no check before the refresh found due at the last landing has issued
    rec = -1                 # landing command of the detour being recorded (-1: none)
    rec_t = rec_open = rec_f = last_t = 0
    rec_counts = np.zeros(n_cmds, dtype=np.int64)
    x = 0
    while x < N:
        i = x % L
        if not in_step and period > 0 and i % every == 0 and x >= check_from \
                and _matches(acc, hist, open_row, horizon, ck_state[i // every]):
            in_step = True
            shift = acc[T] - (x // L * period + ck_t[i // every])
            opened = _open_total(acc)
            if rec >= 0 and counts[REF] - rec_counts[REF] == 1:
                d = detour[rec_f % L]
                d[D_LEN], d[D_CYCLES], d[D_LAST], d[D_OPEN] = x - rec, acc[T] - rec_t, last_t - rec_t, opened - rec_open
                d[D_COUNTS:] = counts - rec_counts
            rec = -1
        if in_step:
            if track:
                s, rel = i, ref_due[0] - shift - x // L * period
                if seen_run[s] == run_id and seen[s, 1] == rel:
                    cycles = (N - x) // (x - seen[s, 0]) - 1          # whole cycles, one kept before the end
                    if cycles > 0:
                        d_x, d_due, d_shift = x - seen[s, 0], ref_due[0] - seen[s, 2], shift - seen[s, 3]
                        counts += cycles * (counts - seen_counts[s])
                        opened += cycles * (opened - seen[s, 4])
                        x += cycles * d_x
                        ref_due[0] += cycles * d_due
                        shift += cycles * d_shift
                    run_id += 1
                seen_run[s] = run_id
                seen[s, 0], seen[s, 1], seen[s, 2], seen[s, 3], seen[s, 4] = x, rel, ref_due[0], shift, opened
                seen_counts[s] = counts
            f = _first_due(ref_due.min() - shift, x, N, pre, period)
            land = min(f, N)
            land -= land % L % every
            a, b = i // every, land % L // every
            counts += (land // L - x // L) * rep_counts + ck_counts[b] - ck_counts[a]
            opened += (land // L - x // L) * rep_open + ck_open[b] - ck_open[a]
            x = land
            if x == N:
                break
            t_land = land // L * period + ck_t[b] + shift
            d = detour[f % L]
            if use_detours and d[D_LEN] > 0 and land + d[D_LEN] <= N and t_land + d[D_LAST] < ref_due[0] + nREFI:
                counts += d[D_COUNTS:]
                opened += d[D_OPEN]
                x = land + d[D_LEN]
                shift = t_land + d[D_CYCLES] - (x // L * period + ck_t[x % L // every])
                ref_due[0] += nREFI
                continue
            _restore(ck_state[b], t_land, acc, hist, open_row)
            acc[OPEN_CYCLES] = opened
            in_step = False
            run_id += 1
            check_from = f + 1
            if use_detours:
                rec, rec_f, rec_t, rec_open = land, f, t_land, opened
                rec_counts[:] = counts
        last_t = acc[T]
        code = _step(x, cmd, rank, bg, bank, row, acc, hist, open_row, counts, ref_due, pending, table, completion,
                     n_ranks, n_bg, n_ba, ranks_per_group, nREFI)
        if code != OK:
            return counts, 0, 0, ref_due.min(), explicit, x, code
        explicit += 1
        x += 1
    if in_step:                      # x == N: a repetition boundary, the reference's first checkpoint
        _restore(ck_state[0], N // L * period + ck_t[0] + shift, acc, hist, open_row)
        acc[OPEN_CYCLES] = opened
    if acc[N_OPEN] > 0:
        acc[OPEN_CYCLES] += acc[DONE] - acc[OPEN_SINCE]
    return counts, acc[OPEN_CYCLES], acc[DONE], ref_due.min(), explicit, -1, OK
