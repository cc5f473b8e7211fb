"""CENT's PIM attention with each sequence at its own context: an op of unequal sequences costs the
composition, by hand, of single-sequence ops (refresh off, so every op's time is its own)."""
import pytest

from hwsim.components.base import build_component
from hwsim.components.dram.pim_sequences import context_runs, score_groups
from hwsim.config.loader import SourceMap
from hwsim.engine import Simulator
from hwsim.machine import load_machine
from hwsim.serving.cost import CostModel
from hwsim.workload.iteration import Iteration, Seq
from hwsim.workload.ops import Op

CENT = {"type": "pim_dram", "source": "test", "preset": "GDDR6_AiM", "channels": 32, "devices": 20,
        "attention_devices": 1, "refresh": False, "reduction": {"clock": "2GHz", "lanes": 320},
        "link": {"latency": "240ns", "bandwidth": "22.55GB/s"}, "keys_over_banks": True, "values_by_kv_head": True}
BANKS = 20 * 32 * 16
DIM = 128


def op_ps(op: Op) -> int:
    """Time of `op` alone on a fresh CENT device (from cycle 0)."""
    sim = Simulator()
    pim = build_component("pim", CENT, SourceMap("<test>"), ("pim",), sim)
    ends = []
    pim.submit(op, lambda o, e: ends.append(e.end_ps))
    sim.run()
    return ends[0]


def score(heads, shapes):
    keys = sum(k for _, k in shapes)
    return Op(0, "attn_score", "attn_score", 0, 2.0 * DIM * heads * keys, "bf16", kv_read_bytes=2.0 * keys * heads * DIM,
              m=max(q for q, _ in shapes), n=max(k for _, k in shapes), k=DIM, count=heads * len(shapes),
              seqs=tuple(sorted(shapes)))


def context(heads, kv_heads, shapes):
    keys = sum(k for _, k in shapes)
    return Op(0, "attn_context", "attn_context", 0, 2.0 * DIM * heads * keys, "bf16",
              kv_read_bytes=2.0 * kv_heads * keys * DIM, m=max(q for q, _ in shapes), k=max(k for _, k in shapes),
              n=DIM, count=heads * len(shapes), seqs=tuple(sorted(shapes)))


def test_score_groups_by_rows_per_bank():
    assert score_groups(((1, 100), (1, 10240), (1, 10241), (1, 50)), 10240) == ((3, 1, 1), (1, 1, 2))
    assert score_groups(((4, 20), (1, 20)), 16) == ((1, 1, 2), (1, 4, 2))


def test_context_runs_fill_the_channels_round_robin_and_pick_the_most_key_passes():
    # 40 KV heads of a 300-key and of a 900-key sequence over 32 channels: channels 8-15 hold
    # one head of the first and two of the second (300 + 2 x 900 key passes, the most)
    assert context_runs(((1, 300), (1, 900)), 40, 32) == (((1, 1, 300), (2, 1, 900)), 32)
    assert context_runs(((1, 500),) * 3, 8, 32) == (((1, 1, 500),), 24)        # equal sequences: one run
    assert context_runs(((1, 500), (1, 700)), 8, 32) == (((1, 1, 700),), 16)  # GQA: the longest on its own channels


def test_unequal_scores_cost_each_sequence_at_its_own_keys():
    """Scores of a 3,000- and a 12,000-key sequence (1 and 2 keys per bank) run one after the other:
    the sum of the two single-sequence ops, less than the batch padded to 12,000 keys."""
    both = op_ps(score(40, [(1, 3000), (1, 12000)]))
    assert both == op_ps(score(40, [(1, 3000)])) + op_ps(score(40, [(1, 12000)]))
    assert both < op_ps(score(40, [(1, 12000), (1, 12000)]))
    # within one row per bank the sequences share a run: exactly today's batched op of equal sequences
    assert op_ps(score(40, [(1, 3000), (1, 9000)])) == op_ps(score(40, [(1, 9000), (1, 9000)]))


def test_unequal_contexts_cost_the_busiest_channels_heads_one_after_another():
    """40 KV heads (MHA) of a 300- and a 900-key sequence on 32 channels: the busiest channel streams
    one 300-key head and two 900-key heads, i.e. a single 300-key sequence of 32 heads (one per
    channel) followed by a single 900-key sequence of 64 heads (two per channel). Keys fit one
    global-buffer chunk, so no partial sums differ."""
    mixed = op_ps(context(40, 40, [(1, 300), (1, 900)]))
    assert mixed == op_ps(context(32, 32, [(1, 300)])) + op_ps(context(64, 64, [(1, 900)]))
    assert mixed < op_ps(context(40, 40, [(1, 900), (1, 900)]))


def test_gqa_sequences_on_their_own_channels_cost_the_longest():
    """Llama-2-70B's 8 KV heads per sequence: two sequences take channels 0-7 and 8-15, so the op
    lasts as long as the longer sequence alone."""
    assert op_ps(context(64, 8, [(1, 500), (1, 1700)])) == op_ps(context(64, 8, [(1, 1700)]))


def test_an_iteration_of_unequal_contexts_is_timed_per_sequence_on_cent():
    """On the CENT machine a decode batch of unequal contexts costs less than the batch padded to its
    longest context, and the memo keys it by every sequence's context."""
    cost = CostModel(load_machine("cent_aim"), "llama2-7b")
    mixed = cost(Iteration((Seq(1, 200), Seq(1, 1900))))
    assert mixed.latency_s < cost(Iteration((Seq(1, 1900), Seq(1, 1900)))).latency_s
    assert mixed == cost.simulate(Iteration((Seq(1, 1900), Seq(1, 200))))


def test_an_op_whose_bytes_are_not_whole_kv_heads_is_refused():
    bad = context(64, 8, [(1, 500), (1, 700)])
    with pytest.raises(ValueError, match="not whole KV heads"):
        op_ps(Op(**{**{f: getattr(bad, f) for f in bad.__slots__}, "kv_read_bytes": bad.kv_read_bytes + 2}))


def test_cent_iterations_with_shared_repeat_plans_equal_issuing_every_command(monkeypatch):
    """Serving iterations on CENT reuse the repeat plans (and refresh detours) that earlier steps
    recorded in this process; the cost is still that of issuing every command of every stream."""
    machine = load_machine("cent_aim")
    its = [Iteration((Seq(1, 300), Seq(12, 40), Seq(1, 901))), Iteration((Seq(1, 301), Seq(1, 902)))]
    warm = [CostModel(machine, "llama2-7b").simulate(it) for it in its + its][2:]
    monkeypatch.setattr("hwsim.components.dram.pim_device.REPEAT_DIRECTLY_BELOW", 1 << 62)
    assert warm == [CostModel(machine, "llama2-7b").simulate(it) for it in its]
