"""Prefill/decode disaggregation (DistServe, Splitwise; serving.md section 5): prompts run on a
prefill machine, each request's KV cache then moves over a link to a decode machine, which
generates the remaining tokens.

The prefill pool does not depend on the decode pool (a prefilled request leaves it at once), so
the pools run one after the other: first every request through the prefill pool as a one-token
request (its first token is the prefill's), then the rest of each request through the decode pool,
arriving when its KV has crossed the link: prompt tokens x the prefill machine's KV bytes per token,
in latency + bytes / bandwidth (``hwsim.serving.transfer``; splitwise-sim sends the KV as one flow
after the prompt). The decode pool may be another kind of machine (a PIM or flash decode machine
behind a GPU prefill). Time in transit is in neither pool's integrals of requests in the system.
A request the decode pool could never hold is rejected before its prefill runs.
"""
from __future__ import annotations

from dataclasses import replace

from hwsim.serving.loop import Timeline, serve_requests
from hwsim.serving.state import Live
from hwsim.serving.transfer import transfer_s


def serve_disaggregated(lives: list[Live], pools: list, kv_bytes_per_token: float, link, max_position: int,
                        progress=None) -> tuple[Timeline, list[float]]:
    """Serve `lives` through `pools` = [(scheduler, block manager, cost) of prefill, of decode];
    fills each Live's times and returns the merged timeline (replica 0 prefill, 1 decode) and
    every request's KV transfer time (s)."""
    (p_sched, p_kv, p_cost), (d_sched, d_kv, d_cost) = pools
    for live in lives:          # the decode pool holds the whole request: refuse it before its prefill
        live.rejected = d_sched.refusal(live, d_kv)
    prefills = [Live(replace(live.request, output=1)) for live in lives]
    first = serve_requests([p for p, live in zip(prefills, lives) if not live.rejected], p_sched, p_kv, p_cost,
                           max_position)
    transfers, decodes = [], []
    for live, prefill in zip(lives, prefills):
        if live.rejected:
            transfers.append(0.0)
            progress and progress(1)
            continue
        live.rejected, live.scheduled_s = prefill.rejected, prefill.scheduled_s
        live.first_token_s = prefill.first_token_s
        live.energy_j, live.preemptions, live.generated = prefill.energy_j, prefill.preemptions, prefill.generated
        seconds = transfer_s(link, live.request.prompt * kv_bytes_per_token) if prefill.finish_s is not None else 0.0
        transfers.append(seconds)
        if prefill.finish_s is None or live.request.output == 1:
            live.finish_s = prefill.finish_s
            progress and progress(1)
            continue
        decode = Live(replace(live.request, arrival_s=prefill.finish_s + seconds), cached=live.request.prompt,
                      generated=1, first_token_s=prefill.first_token_s)
        decodes.append((live, decode))
    decodes.sort(key=lambda pair: pair[1].request.arrival_s)
    second = serve_requests([decode for _, decode in decodes], d_sched, d_kv, d_cost, max_position, progress)
    for live, decode in decodes:
        live.finish_s, live.rejected, live.generated = decode.finish_s, decode.rejected, decode.generated
        live.energy_j += decode.energy_j
        live.preemptions += decode.preemptions
    timeline = Timeline.merge([first, second])
    timeline.transfer_s = sum(transfers)
    return timeline, transfers
