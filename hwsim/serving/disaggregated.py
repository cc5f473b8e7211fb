"""Prefill/decode disaggregation (DistServe, Splitwise; serving.md section 5): prompts run on a
prefill pool, each request's KV cache then moves over a link to a decode pool, which generates the
remaining tokens. Each pool is one or more replicas of its machine behind a router (DistServe's
prefill and decode instances), so a design can split its machines between the phases.

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

from hwsim.serving.loop import ReplicaLoop, Timeline
from hwsim.serving.routers import make_router, route
from hwsim.serving.state import Live
from hwsim.serving.transfer import transfer_s


def serve_disaggregated(lives: list[Live], pools: list, kv_bytes_per_token: float, link, max_position: int,
                        progress=None, router: str = "round-robin") -> tuple[Timeline, list[float]]:
    """Serve `lives` through `pools` = [prefill replicas, decode replicas], each a list of (scheduler,
    block manager, cost), behind `router`; fills each Live's times and returns the merged timeline
    (prefill replicas first, then decode) and every request's KV transfer time (s)."""
    prefill, decode = ([ReplicaLoop(scheduler, kv, cost, max_position, told) for scheduler, kv, cost in pool]
                       for pool, told in zip(pools, (None, progress)))
    for live in lives:          # the decode pool holds the whole request: refuse it before its prefill
        live.rejected = decode[0].scheduler.refusal(live, decode[0].kv)
    prefills = [Live(replace(live.request, output=1)) for live in lives]
    route([p for p, live in zip(prefills, lives) if not live.rejected], make_router(router), prefill)
    transfers, decodes = [], []
    for live, prefill_live in zip(lives, prefills):
        if live.rejected:
            transfers.append(0.0)
            progress and progress(1)
            continue
        live.rejected, live.scheduled_s = prefill_live.rejected, prefill_live.scheduled_s
        live.first_token_s = prefill_live.first_token_s
        live.energy_j, live.preemptions = prefill_live.energy_j, prefill_live.preemptions
        live.generated = prefill_live.generated
        done = prefill_live.finish_s
        seconds = transfer_s(link, live.request.prompt * kv_bytes_per_token) if done is not None else 0.0
        transfers.append(seconds)
        if done is None or live.request.output == 1:
            live.finish_s = done
            progress and progress(1)
            continue
        moved = Live(replace(live.request, arrival_s=done + seconds), cached=live.request.prompt,
                     generated=1, first_token_s=prefill_live.first_token_s)
        decodes.append((live, moved))
    decodes.sort(key=lambda pair: pair[1].request.arrival_s)
    route([moved for _, moved in decodes], make_router(router), decode)
    for live, moved in decodes:
        live.finish_s, live.rejected, live.generated = moved.finish_s, moved.rejected, moved.generated
        live.energy_j += moved.energy_j
        live.preemptions += moved.preemptions
    timeline = Timeline.merge([loop.timeline for loop in prefill + decode])
    timeline.transfer_s = sum(transfers)
    return timeline, transfers
