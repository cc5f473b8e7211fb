"""Block accounting and the batching policies' iterations, step by step."""
from collections import deque

import pytest

from hwsim.serving.kv import BlockManager
from hwsim.serving.requests import Request
from hwsim.serving.schedulers import SCHEDULERS, make_scheduler
from hwsim.serving.state import Live


def lives(*shapes):
    return [Live(Request(i, 0.0, prompt, output)) for i, (prompt, output) in enumerate(shapes)]


def test_blocks_are_counted_per_request_and_never_overdrawn():
    kv = BlockManager(100, block_size=16, watermark=0.0)
    assert kv.capacity == 6 and kv.blocks(17) == 2
    kv.grow(1, 17)
    kv.grow(1, 32)                       # still 2 blocks
    assert kv.used == 2 and kv.extra(1, 33) == 1
    assert not kv.can_grow(2, 5 * 16)
    with pytest.raises(RuntimeError, match="needs 5 more KV blocks, 4 free"):
        kv.grow(2, 5 * 16)
    kv.release(1)
    assert kv.used == 0 and kv.held == {}
    with pytest.raises(ValueError, match="holds no block"):
        BlockManager(8, block_size=16)


def test_an_unknown_scheduler_gets_a_did_you_mean():
    with pytest.raises(ValueError, match="unknown scheduler 'chunkd' \\(did you mean 'chunked'\\?\\)"):
        make_scheduler("chunkd")
    assert set(SCHEDULERS) == {"static", "orca", "continuous", "chunked"}


def test_continuous_batching_is_prefill_first_then_decodes_everyone():
    policy, kv = make_scheduler("continuous", max_seqs=8, max_tokens=100), BlockManager(10_000, 16)
    a, b, c = lives((30, 5), (50, 5), (40, 5))
    waiting, running = deque([a, b, c]), []
    batch = policy.schedule(waiting, running, kv)
    assert batch == {a: 30, b: 50}                    # c would pass the 100-token limit
    for live, n in batch.items():
        live.advance(n, 1.0)
    assert policy.schedule(waiting, running, kv) == {c: 40}
    c.advance(40, 2.0)
    assert policy.schedule(waiting, running, kv) == {a: 1, b: 1, c: 1}


def test_static_batching_waits_for_the_whole_batch_and_reserves_its_outputs():
    policy, kv = make_scheduler("static", max_seqs=2), BlockManager(10_000, 16, watermark=0.0)
    a, b, c = lives((10, 3), (20, 1), (5, 2))
    waiting, running = deque([a, b, c]), []
    batch = policy.schedule(waiting, running, kv)
    assert batch == {a: 10, b: 20} and kv.used == kv.blocks(12) + kv.blocks(20)
    a.advance(10, 1.0)
    assert b.advance(20, 1.0)                         # b is done after its prefill token
    running.remove(b)
    kv.release(b.id)
    assert policy.schedule(waiting, running, kv) == {a: 1}    # c waits for a to finish


def test_orca_mixes_whole_prompts_into_the_decodes_and_reserves_outputs():
    policy, kv = make_scheduler("orca", max_seqs=8, max_tokens=100), BlockManager(10_000, 16, watermark=0.0)
    a, b, c = lives((30, 5), (50, 5), (40, 5))
    waiting, running = deque([a, b, c]), []
    assert policy.schedule(waiting, running, kv) == {a: 30, b: 50}
    assert kv.used == kv.blocks(34) + kv.blocks(54)
    a.advance(30, 1.0)
    b.advance(50, 1.0)
    assert policy.schedule(waiting, running, kv) == {a: 1, b: 1, c: 40}


def test_chunked_prefill_fills_a_token_budget_decodes_first():
    policy, kv = make_scheduler("chunked", max_seqs=8, max_tokens=64), BlockManager(10_000, 16)
    a, b, c = lives((100, 4), (30, 4), (200, 4))
    waiting, running = deque([a, b, c]), []
    assert policy.schedule(waiting, running, kv) == {a: 64}
    a.advance(64, 1.0)
    assert policy.schedule(waiting, running, kv) == {a: 36, b: 28}
    a.advance(36, 2.0)
    b.advance(28, 2.0)
    assert a.remaining == 1 and policy.schedule(waiting, running, kv) == {a: 1, b: 2, c: 61}


def test_running_out_of_blocks_preempts_the_newest_by_recompute():
    policy, kv = make_scheduler("continuous", max_seqs=8, max_tokens=100), BlockManager(4 * 16, 16, watermark=0.0)
    a, b = lives((32, 40), (31, 40))
    waiting, running = deque([a, b]), []
    batch = policy.schedule(waiting, running, kv)
    for live, n in batch.items():
        live.advance(n, 1.0)
    assert kv.used == 4 and b.cached == 31
    batch = policy.schedule(waiting, running, kv)     # a needs a 3rd block: b is preempted
    assert batch == {a: 1} and list(waiting) == [b]
    assert b.cached == 0 and b.preemptions == 1 and b.remaining == 32 and kv.held == {a.id: 3}
