"""Page-level event schedule of one flash channel (numba): bus arbitration, dies, planes, cores.

One call times a batch of work on one channel, all in integer ps from time 0:

- normal page reads, `n_norm[d, p]` pages on plane p of die d, each: command on the bus,
  tR into the data register, hand-off to the cache register (`cache_read`), data-out over the bus
  in `n_slices` slices (read slicing: a slice is the unit the bus arbiter cannot interrupt);
- read-compute pages on plane 0, `n_rc[d]` pages on die d, page i of every die belonging to
  request i: the request's input slice is broadcast once on the bus to every core of the channel,
  then each die reads its page (tR: its read-compute command waits for the request's input, the
  paper's request order and its t_rc = tR + input transfer, reference/lut_flash.md B1),
  hands it to the cache register, its compute core runs the GEMV (`t_core`), and the result goes
  back over the bus.

The bus serves one job at a time, never preempted. When it frees it takes, of the jobs ready by
then, with `priority` (Cambricon-LLM's Slice Control) the most urgent class: 0 commands (they start
the arrays), 1 read-compute inputs and results, 2 data-out slices, then the earliest ready; without
it (a plain FIFO channel queue) the earliest ready, then the class; then the lowest die/plane. When no job
is ready it idles until the first becomes ready. Per die, the core holds the cache register while
it computes; the input buffer holds `input_slots` requests (a slot frees when every core of the
channel finished that request); the output buffer holds `output_slots` results (page j starts only
once result j - output_slots has been sent). Without `multi_plane` the tR of a die's planes never overlap.

Besides the totals it returns two logs, the schedule the RTL die is checked against
(tests/rtl/test_flash_die.py replays `bus_log` and compares `events` cycle for cycle):
bus_log rows (kind, die, plane, ready, start, stop), kind 0 input broadcast, 1 read-compute
command, 2 result, 3 read command, 4 data-out slice; events rows (what, die, plane, time),
what 0 a read-compute page moves to the cache register, 1 the core finishes a page, 2 a read page
moves to the cache register.
"""
from __future__ import annotations

import numpy as np
from numba import njit

INF = np.iinfo(np.int64).max


@njit(cache=True)
def _better(eff, cls, ready, best_eff, best_cls, best_ready, priority):
    """Job (eff, cls, ready) goes before the best so far (earlier scan order wins ties)."""
    if eff != best_eff:
        return eff < best_eff
    if priority and cls != best_cls:
        return cls < best_cls
    if ready != best_ready:
        return ready < best_ready
    return cls < best_cls


@njit(cache=True)
def _log_event(events, n_events, what, d, p, t):
    events[n_events[0], 0] = what; events[n_events[0], 1] = d
    events[n_events[0], 2] = p; events[n_events[0], 3] = t
    n_events[0] += 1


@njit(cache=True)
def _advance_rc(d, rc_cmd, rc_tr, rc_moved, rc_move, rc_comp, comp_end, t_core, rc_res, res_end,
                output_slots, events, n_events):
    """Move issued pages to the cache register and compute them, as far as result slots allow (a page's
    input arrived before its command was issued)."""
    while True:
        m = rc_moved[d]
        if m < rc_cmd[d] and (m == 0 or rc_comp[d] >= m):
            rc_move[d] = max(rc_tr[d], comp_end[d, m - 1] if m > 0 else 0)
            rc_moved[d] = m + 1
            _log_event(events, n_events, 0, d, 0, rc_move[d])
            continue
        j = rc_comp[d]
        if j < rc_moved[d] and rc_res[d] > j - output_slots:
            slot_free = res_end[d, j - output_slots] if j >= output_slots else 0
            comp_end[d, j] = max(rc_move[d], slot_free) + t_core
            rc_comp[d] = j + 1
            _log_event(events, n_events, 1, d, 0, comp_end[d, j])
            continue
        return


@njit(cache=True)
def _advance_norm(d, p, nr_cmd, nr_tr, nr_moved, nr_move, nr_done, nr_xfer_end, cache_read, events, n_events):
    """Hand the page in the data register to the cache register once that register is free."""
    m = nr_moved[d, p]
    if m < nr_cmd[d, p]:
        if not cache_read:
            nr_move[d, p] = nr_tr[d, p]           # no cache register: data-out from the data register
            nr_moved[d, p] = m + 1
        elif nr_done[d, p] >= m:
            nr_move[d, p] = max(nr_tr[d, p], nr_xfer_end[d, p])
            nr_moved[d, p] = m + 1
        else:
            return
        _log_event(events, n_events, 2, d, p, nr_move[d, p])


@njit(cache=True)
def simulate_channel(n_rc, n_norm, t_cmd, t_read, t_core, t_input, t_result, t_slice, n_slices,
                     cache_read, multi_plane, input_slots, output_slots, priority):
    """Time one channel's batch. Returns (end_ps, bus_busy_ps, rc_bus_ps, arrivals_ps, rc_done_ps,
    bus_log, events): the last event, bus busy time in total and for read-compute traffic, the time
    each normal page finished its data-out (completion order), when each die's last result was
    sent, and the two logs described in the module docstring."""
    D, P = n_norm.shape
    R = 0
    for d in range(D):
        R = max(R, n_rc[d])
    rc_cmd = np.zeros(D, np.int64); rc_tr = np.zeros(D, np.int64)
    rc_moved = np.zeros(D, np.int64); rc_move = np.zeros(D, np.int64)
    rc_comp = np.zeros(D, np.int64); rc_res = np.zeros(D, np.int64)
    comp_end = np.zeros((D, max(R, 1)), np.int64)
    res_end = np.zeros((D, max(R, 1)), np.int64)
    rc_done = np.zeros(D, np.int64)
    in_end = np.zeros(max(R, 1), np.int64)
    in_n = 0
    nr_cmd = np.zeros((D, P), np.int64); nr_tr = np.zeros((D, P), np.int64)
    nr_moved = np.zeros((D, P), np.int64); nr_move = np.zeros((D, P), np.int64)
    nr_done = np.zeros((D, P), np.int64); nr_slice = np.zeros((D, P), np.int64)
    nr_xfer_end = np.zeros((D, P), np.int64)
    die_busy = np.zeros(D, np.int64)
    n_pages = 0
    for d in range(D):
        for p in range(P):
            n_pages += n_norm[d, p]
    arrivals = np.zeros(n_pages, np.int64)
    n_arrived = 0
    jobs_left = R + 2 * n_rc.sum() + n_pages * (1 + n_slices)
    bus_log = np.zeros((jobs_left, 6), np.int64)
    n_jobs = 0
    events = np.zeros((2 * n_rc.sum() + n_pages, 4), np.int64)
    n_events = np.zeros(1, np.int64)
    bus_free = 0
    bus_busy = 0
    rc_bus = 0
    end = 0
    while jobs_left > 0:
        # pick the next bus job: key (max(ready, bus_free), class, ready); scan order breaks ties
        best_eff = INF; best_cls = 3; best_ready = INF; kind = -1; bd = -1; bp = -1
        if in_n < R:
            ready = 0
            if in_n >= input_slots:
                q = in_n - input_slots
                for d in range(D):
                    if n_rc[d] > q:
                        if rc_comp[d] <= q:
                            ready = INF
                            break
                        ready = max(ready, comp_end[d, q])
            if ready < INF:
                best_eff = max(ready, bus_free); best_cls = 1; best_ready = ready; kind = 0
        for d in range(D):
            i = rc_cmd[d]
            if i < n_rc[d] and (i == 0 or rc_moved[d] == i) and in_n > i:
                ready = max(rc_move[d] if i > 0 else 0, in_end[i])
                if not multi_plane:
                    ready = max(ready, die_busy[d])
                eff = max(ready, bus_free)
                if _better(eff, 0, ready, best_eff, best_cls, best_ready, priority):
                    best_eff = eff; best_cls = 0; best_ready = ready; kind = 1; bd = d
            if rc_res[d] < rc_comp[d]:
                ready = comp_end[d, rc_res[d]]
                eff = max(ready, bus_free)
                if _better(eff, 1, ready, best_eff, best_cls, best_ready, priority):
                    best_eff = eff; best_cls = 1; best_ready = ready; kind = 2; bd = d
            for p in range(P):
                i = nr_cmd[d, p]
                if i < n_norm[d, p]:
                    if i == 0:
                        ready = 0
                    elif cache_read and nr_moved[d, p] == i:
                        ready = nr_move[d, p]
                    elif not cache_read and nr_done[d, p] == i:
                        ready = nr_xfer_end[d, p]
                    else:
                        ready = INF
                    if ready < INF:
                        if not multi_plane:
                            ready = max(ready, die_busy[d])
                        eff = max(ready, bus_free)
                        if _better(eff, 0, ready, best_eff, best_cls, best_ready, priority):
                            best_eff = eff; best_cls = 0; best_ready = ready; kind = 3; bd = d; bp = p
                if nr_moved[d, p] > nr_done[d, p]:
                    ready = nr_move[d, p]
                    eff = max(ready, bus_free)
                    if _better(eff, 2, ready, best_eff, best_cls, best_ready, priority):
                        best_eff = eff; best_cls = 2; best_ready = ready; kind = 4; bd = d; bp = p
        if kind < 0:
            return -1, bus_busy, rc_bus, arrivals, rc_done, bus_log, events   # nothing can become ready: a bug
        start = best_eff
        if kind == 0:
            stop = start + t_input
            in_end[in_n] = stop
            in_n += 1
        elif kind == 1:
            stop = start + t_cmd
            rc_cmd[bd] += 1
            rc_tr[bd] = stop + t_read
            die_busy[bd] = max(die_busy[bd], rc_tr[bd])
        elif kind == 2:
            stop = start + t_result
            res_end[bd, rc_res[bd]] = stop
            rc_res[bd] += 1
            rc_done[bd] = stop
        elif kind == 3:
            stop = start + t_cmd
            nr_cmd[bd, bp] += 1
            nr_tr[bd, bp] = stop + t_read
            die_busy[bd] = max(die_busy[bd], nr_tr[bd, bp])
        else:
            stop = start + t_slice
            nr_slice[bd, bp] += 1
            if nr_slice[bd, bp] == n_slices:
                nr_slice[bd, bp] = 0
                nr_done[bd, bp] += 1
                nr_xfer_end[bd, bp] = stop
                arrivals[n_arrived] = stop
                n_arrived += 1
        if kind <= 2:
            rc_bus += stop - start
            if kind > 0:            # an input only lets commands go; a command or result lets this die's pages on
                _advance_rc(bd, rc_cmd, rc_tr, rc_moved, rc_move, rc_comp, comp_end, t_core,
                            rc_res, res_end, output_slots, events, n_events)
        else:
            _advance_norm(bd, bp, nr_cmd, nr_tr, nr_moved, nr_move, nr_done, nr_xfer_end, cache_read,
                          events, n_events)
        bus_log[n_jobs, 0] = kind; bus_log[n_jobs, 1] = bd; bus_log[n_jobs, 2] = bp
        bus_log[n_jobs, 3] = best_ready; bus_log[n_jobs, 4] = start; bus_log[n_jobs, 5] = stop
        n_jobs += 1
        bus_busy += stop - start
        bus_free = stop
        end = max(end, stop)
        jobs_left -= 1
    return end, bus_busy, rc_bus, arrivals, rc_done, bus_log, events
