"""The cycle loop of the on-chip network (numba). One call simulates every router and terminal.

Each cycle, in order: flits and credits due this cycle are received; terminals inject (one flit
per cycle, on a free VC of their router's local input port, when they hold a credit); VC
allocation; switch allocation (separable, input first: each input port picks one VC round-robin,
each output port grants one input round-robin); winners leave their buffers. Timing conventions
are in ``router.py``. Arrays are indexed [router, port, vc] unless named otherwise.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def run_cycles(nbr_r, nbr_p, term_of, term_router, term_port, route, dim, wraps, classes,
               vcs, depth, rc_delay, va_delay, sa_delay, xbar_delay, link, credit_delay,
               pkt_src, pkt_dst, pkt_created, pkt_flits, queue, queue_start, max_cycles):
    """Returns (injected, ejected, routers_passed) per packet; -1 where it did not happen."""
    R, P = nbr_r.shape
    T = len(term_router)
    N = len(pkt_src)
    wire = xbar_delay + link + 1                 # switch allocation -> received downstream
    D = max(wire, credit_delay, link + 1) + 1    # length of the in-flight rings (longest delay + 1)
    half = vcs // classes

    buf_pkt = np.full((R, P, vcs, depth), -1, np.int64)
    buf_idx = np.zeros((R, P, vcs, depth), np.int64)
    q_head = np.zeros((R, P, vcs), np.int64)
    q_len = np.zeros((R, P, vcs), np.int64)
    vc_route = np.full((R, P, vcs), -1, np.int64)
    vc_out = np.full((R, P, vcs), -1, np.int64)
    va_ready = np.zeros((R, P, vcs), np.int64)
    sa_ready = np.zeros((R, P, vcs), np.int64)
    out_owner = np.full((R, P, vcs), -1, np.int64)
    out_cred = np.full((R, P, vcs), depth, np.int64)
    rr_va = np.zeros((R, P), np.int64)
    rr_in = np.zeros((R, P), np.int64)
    rr_out = np.zeros((R, P), np.int64)
    candidate = np.full(P, -1, np.int64)

    fl_pkt = np.full((R, P, D), -1, np.int64)    # flits in flight to router inputs
    fl_idx = np.zeros((R, P, D), np.int64)
    fl_vc = np.zeros((R, P, D), np.int64)
    ej_pkt = np.full((T, D), -1, np.int64)       # flits in flight to terminals
    ej_idx = np.zeros((T, D), np.int64)
    ej_vc = np.zeros((T, D), np.int64)
    cr_vc = np.full((R, P, D), -1, np.int64)     # credits in flight to router outputs
    cr_tail = np.zeros((R, P, D), np.int64)
    tc_vc = np.full((T, D), -1, np.int64)        # credits in flight to terminals
    tc_tail = np.zeros((T, D), np.int64)

    t_cred = np.full((T, vcs), depth, np.int64)  # terminal side of the injection link
    t_busy = np.zeros((T, vcs), np.int64)
    t_next = queue_start[:-1].copy()
    t_pkt = np.full(T, -1, np.int64)
    t_flit = np.zeros(T, np.int64)
    t_vc = np.zeros(T, np.int64)
    t_rr = np.zeros(T, np.int64)

    injected = np.full(N, -1, np.int64)
    ejected = np.full(N, -1, np.int64)
    passed = np.zeros(N, np.int64)
    left = N

    for t in range(max_cycles):
        if left == 0:
            break
        s = t % D
        # --- receive flits and credits due now
        for r in range(R):
            for p in range(P):
                pk = fl_pkt[r, p, s]
                if pk >= 0:
                    v = fl_vc[r, p, s]
                    slot = (q_head[r, p, v] + q_len[r, p, v]) % depth
                    buf_pkt[r, p, v, slot] = pk
                    buf_idx[r, p, v, slot] = fl_idx[r, p, s]
                    q_len[r, p, v] += 1
                    if q_len[r, p, v] == 1 and fl_idx[r, p, s] == 0:
                        vc_route[r, p, v] = route[r, pkt_dst[pk]]
                        va_ready[r, p, v] = t + rc_delay
                    fl_pkt[r, p, s] = -1
                v = cr_vc[r, p, s]
                if v >= 0:
                    out_cred[r, p, v] += 1
                    if cr_tail[r, p, s]:
                        out_owner[r, p, v] = -1
                    cr_vc[r, p, s] = -1
        for term in range(T):
            pk = ej_pkt[term, s]
            if pk >= 0:
                if ej_idx[term, s] == pkt_flits[pk] - 1:
                    ejected[pk] = t
                    left -= 1
                back = (t + credit_delay) % D      # the terminal consumes the flit at once
                r, p = term_router[term], term_port[term]
                cr_vc[r, p, back] = ej_vc[term, s]
                cr_tail[r, p, back] = ej_idx[term, s] == pkt_flits[pk] - 1
                ej_pkt[term, s] = -1
            v = tc_vc[term, s]
            if v >= 0:
                t_cred[term, v] += 1
                if tc_tail[term, s]:
                    t_busy[term, v] = 0
                tc_vc[term, s] = -1
        # --- terminals inject
        for term in range(T):
            if t_pkt[term] < 0 and t_next[term] < queue_start[term + 1]:
                pk = queue[t_next[term]]
                if pkt_created[pk] <= t:
                    for i in range(half):
                        v = (t_rr[term] + i) % half      # the injection port uses class 0
                        if t_busy[term, v] == 0:
                            t_pkt[term], t_flit[term], t_vc[term] = pk, 0, v
                            t_busy[term, v] = 1
                            t_rr[term] = v + 1
                            t_next[term] += 1
                            break
            pk = t_pkt[term]
            if pk >= 0 and t_cred[term, t_vc[term]] > 0:
                r, p = term_router[term], term_port[term]
                arrive = (t + link + 1) % D
                fl_pkt[r, p, arrive] = pk
                fl_idx[r, p, arrive] = t_flit[term]
                fl_vc[r, p, arrive] = t_vc[term]
                t_cred[term, t_vc[term]] -= 1
                if t_flit[term] == 0:
                    injected[pk] = t
                t_flit[term] += 1
                if t_flit[term] == pkt_flits[pk]:
                    t_pkt[term] = -1
        for r in range(R):
            # --- VC allocation: per output port, requesters in round-robin order
            for o in range(P):
                granted_first = -1
                for i in range(P * vcs):
                    k = (rr_va[r, o] + i) % (P * vcs)
                    p, v = k // vcs, k % vcs
                    if (q_len[r, p, v] == 0 or vc_out[r, p, v] >= 0 or vc_route[r, p, v] != o
                            or va_ready[r, p, v] > t):
                        continue
                    lo, hi = 0, vcs
                    if classes > 1 and term_of[r, o] < 0:
                        upper = wraps[r, o] == 1 or (dim[r, p] == dim[r, o] and v >= half)
                        lo = half if upper else 0
                        hi = lo + half
                    for ov in range(lo, hi):
                        if out_owner[r, o, ov] < 0:
                            out_owner[r, o, ov] = k
                            vc_out[r, p, v] = ov
                            sa_ready[r, p, v] = t + va_delay
                            if granted_first < 0:
                                granted_first = k
                            break
                if granted_first >= 0:
                    rr_va[r, o] = granted_first + 1
            # --- switch allocation, input stage
            for p in range(P):
                candidate[p] = -1
                for i in range(vcs):
                    v = (rr_in[r, p] + i) % vcs
                    if (q_len[r, p, v] > 0 and vc_out[r, p, v] >= 0 and sa_ready[r, p, v] + sa_delay - 1 <= t
                            and out_cred[r, vc_route[r, p, v], vc_out[r, p, v]] > 0):
                        candidate[p] = v
                        break
            # --- output stage and traversal
            for o in range(P):
                for i in range(P):
                    p = (rr_out[r, o] + i) % P
                    v = candidate[p]
                    if v < 0 or vc_route[r, p, v] != o:
                        continue
                    ov = vc_out[r, p, v]
                    slot = q_head[r, p, v]
                    pk, idx = buf_pkt[r, p, v, slot], buf_idx[r, p, v, slot]
                    q_head[r, p, v] = (slot + 1) % depth
                    q_len[r, p, v] -= 1
                    out_cred[r, o, ov] -= 1
                    arrive = (t + wire) % D
                    term = term_of[r, o]
                    if term >= 0:
                        ej_pkt[term, arrive] = pk
                        ej_idx[term, arrive] = idx
                        ej_vc[term, arrive] = ov
                    else:
                        nr, np_ = nbr_r[r, o], nbr_p[r, o]
                        fl_pkt[nr, np_, arrive] = pk
                        fl_idx[nr, np_, arrive] = idx
                        fl_vc[nr, np_, arrive] = ov
                    tail = idx == pkt_flits[pk] - 1
                    back = (t + credit_delay) % D
                    source = term_of[r, p]
                    if source >= 0:
                        tc_vc[source, back] = v
                        tc_tail[source, back] = tail
                    else:
                        cr_vc[nbr_r[r, p], nbr_p[r, p], back] = v
                        cr_tail[nbr_r[r, p], nbr_p[r, p], back] = tail
                    if idx == 0:
                        passed[pk] += 1
                    if tail:
                        vc_route[r, p, v] = -1
                        vc_out[r, p, v] = -1
                        if q_len[r, p, v] > 0:          # the next packet's head is already waiting
                            nxt = buf_pkt[r, p, v, q_head[r, p, v]]
                            vc_route[r, p, v] = route[r, pkt_dst[nxt]]
                            va_ready[r, p, v] = t + 1 + rc_delay
                    rr_in[r, p] = v + 1
                    rr_out[r, o] = p + 1
                    break
    return injected, ejected, passed
