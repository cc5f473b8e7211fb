"""Conservation properties over random request mixes, capacities and policies, for one machine,
swapping, replicas behind each router, and prefill/decode disaggregation: every admitted request
finishes exactly once with its requested output tokens, KV blocks in use never exceed the
capacity, every block (device and host) is free at the end, and a preempted or swapped request
resumes and completes. Small derandomized examples keep the suite fast."""

from hypothesis import HealthCheck, given, settings, strategies as st

from hwsim.serving.disaggregated import serve_disaggregated
from hwsim.serving.kv import BlockManager
from hwsim.serving.loop import ReplicaLoop
from hwsim.serving.requests import Request
from hwsim.serving.routers import ROUTERS, make_router, route
from hwsim.serving.schedulers import SCHEDULERS, make_scheduler
from hwsim.serving.state import Live

MAX_POSITION = 4096
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
mixes = st.lists(st.tuples(st.floats(0, 2), st.integers(1, 120), st.integers(1, 40)), min_size=1, max_size=20)
policies = st.sampled_from(sorted(SCHEDULERS))


def lives_of(shapes) -> list[Live]:
    """Requests from (gap s, prompt, output) triples, in arrival order."""
    lives, t = [], 0.0
    for i, (gap, prompt, output) in enumerate(shapes):
        t += gap
        lives.append(Live(Request(i, t, prompt, output)))
    return lives


def assert_conserved(lives, told, timelines, kvs):
    """The properties in the module docstring; `told` is what the progress callback was told."""
    assert sum(told) == len(lives)                                    # each finished or rejected exactly once
    for live in lives:
        if live.rejected:
            assert live.finish_s is None and live.generated == 0
        else:
            assert live.generated == live.request.output and live.finish_s is not None
            assert live.request.arrival_s <= live.scheduled_s < live.first_token_s <= live.finish_s
    for timeline, kv in zip(timelines, kvs):
        assert max(timeline.kv_blocks, default=0) <= kv.capacity
        assert kv.used == 0 and kv.held == {} and kv.swapped == {}


def pool(policy, blocks, block_size, max_seqs, max_tokens, preemption="recompute", host_blocks=0):
    return (make_scheduler(policy, max_seqs, max_tokens, preemption=preemption),
            BlockManager(blocks * block_size, block_size, watermark=0.0, host_blocks=host_blocks))


def serve_requests(lives, scheduler, kv, cost, max_position, progress=None, swap_s=None):
    """One replica's loop run over `lives` (in arrival order) to completion."""
    loop = ReplicaLoop(scheduler, kv, cost, max_position, progress, swap_s)
    for live in lives:
        loop.add(live)
    return loop.advance()


@SETTINGS
@given(shapes=mixes, policy=policies, block_size=st.integers(1, 32), blocks=st.integers(1, 40),
       max_seqs=st.integers(1, 6), max_tokens=st.integers(8, 300))
def test_one_machine_conserves_requests_and_blocks(formula, shapes, policy, block_size, blocks, max_seqs, max_tokens):
    lives, told = lives_of(shapes), []
    scheduler, kv = pool(policy, blocks, block_size, max_seqs, max_tokens)
    timeline = serve_requests(lives, scheduler, kv, formula(0.01, 1e-3), MAX_POSITION, told.append)
    assert_conserved(lives, told, [timeline], [kv])


@SETTINGS
@given(shapes=mixes, policy=st.sampled_from(["continuous", "chunked"]), block_size=st.integers(1, 16),
       blocks=st.integers(4, 30), host_blocks=st.integers(0, 30), max_seqs=st.integers(1, 6))
def test_swapping_conserves_requests_and_blocks(formula, shapes, policy, block_size, blocks, host_blocks, max_seqs):
    """A victim swaps when the host pool has room, else recomputes; either way it resumes."""
    lives, told = lives_of(shapes), []
    scheduler, kv = pool(policy, blocks, block_size, max_seqs, 300, "swap", host_blocks)
    moves = []
    timeline = serve_requests(lives, scheduler, kv, formula(0.01, 1e-3), MAX_POSITION, told.append,
                              swap_s=lambda moved: moves.append(moved) or 1e-3 * moved)
    assert_conserved(lives, told, [timeline], [kv])
    assert timeline.swap_blocks == sum(moves) and timeline.swap_s == sum(1e-3 * m for m in moves)


@SETTINGS
@given(shapes=mixes, policy=policies, router=st.sampled_from(sorted(ROUTERS)), replicas=st.integers(1, 3),
       blocks=st.integers(2, 30), max_seqs=st.integers(1, 4))
def test_replicas_conserve_requests_and_blocks(formula, shapes, policy, router, replicas, blocks, max_seqs):
    lives, told = lives_of(shapes), []
    loops = [ReplicaLoop(*pool(policy, blocks, 8, max_seqs, 200), formula(0.01, 1e-3), MAX_POSITION, told.append)
             for _ in range(replicas)]
    route(lives, make_router(router), loops)
    assert_conserved(lives, told, [loop.timeline for loop in loops], [loop.kv for loop in loops])
    served = [live.id for loop in loops for live in lives if live.id in loop.ids]
    assert sorted(served) == [live.id for live in lives]               # each request went to one replica


@SETTINGS
@given(shapes=mixes, prefill=policies, decode=policies, blocks=st.integers(2, 30), max_seqs=st.integers(1, 4),
       counts=st.tuples(st.integers(1, 3), st.integers(1, 3)), router=st.sampled_from(sorted(ROUTERS)))
def test_disaggregation_conserves_requests_and_blocks(formula, shapes, prefill, decode, blocks, max_seqs, counts,
                                                      router):
    lives, told = lives_of(shapes), []
    pools = [[(*pool(policy, blocks, 8, max_seqs, 200), formula(0.01, 1e-3)) for _ in range(count)]
             for policy, count in zip((prefill, decode), counts)]
    timeline, transfers = serve_disaggregated(lives, pools, 1024.0, "roce_400g", MAX_POSITION, told.append, router)
    kvs = [kv for replicas in pools for _, kv, _ in replicas]          # in the timeline's replica order
    assert_conserved(lives, told, [], [])
    assert all(kv.used == 0 and kv.held == {} and kv.swapped == {} for kv in kvs)
    assert all(blocks <= kvs[replica].capacity for blocks, replica in zip(timeline.kv_blocks, timeline.replica))
    assert len(transfers) == len(lives) and all(t > 0 for live, t in zip(lives, transfers) if live.first_token_s)
    assert timeline.transfer_s == sum(transfers)
