"""MoE routing: constraints, distributions, determinism, files and load statistics."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from pydantic import ValidationError

from hwsim.workload.model import MoE
from hwsim.workload.routing import (RoutingSpec, load_routing, load_stats, route, routing_model,
                                    save_routing, violations)


def moe(experts=16, top_k=2, groups=1, routing="topk", topk_groups=None):
    return MoE(routed_experts=experts, top_k=top_k, expert_intermediate=8, groups=groups,
               routing=routing, topk_groups=topk_groups)


def obeys(experts: np.ndarray, m: MoE) -> bool:
    """Plain-Python check of the routing rule, independent of routing.violations."""
    size = m.routed_experts // m.groups
    for row in experts.reshape(-1, m.top_k).tolist():
        groups = [e // size for e in row]
        if len(set(row)) != len(row) or max(row) >= m.routed_experts:
            return False
        if m.routing == "one_per_group" and sorted(groups) != list(range(m.groups)):
            return False
        if m.routing == "group_limited" and len(set(groups)) > m.topk_groups:
            return False
    return True


@st.composite
def moe_shapes(draw):
    groups = draw(st.integers(1, 6))
    size = draw(st.integers(1, 6))
    experts = groups * size
    rule = draw(st.sampled_from(["topk", "group_limited", "one_per_group"]))
    if rule == "one_per_group":
        return moe(experts, groups, groups, rule)
    if rule == "group_limited":
        kept = draw(st.integers(1, groups))
        return moe(experts, draw(st.integers(1, kept * size)), groups, rule, kept)
    return moe(experts, draw(st.integers(1, experts)), groups)


specs = st.one_of(
    st.just(RoutingSpec()),
    st.builds(lambda s, r: RoutingSpec(kind="zipf", s=s, reuse=r), st.floats(0, 2), st.floats(0, 1)),
    st.builds(lambda s, lam, m: RoutingSpec(kind="affinity", s=s, lam=lam, successors=m),
              st.floats(0, 2), st.floats(0, 0.95), st.integers(1, 5)))


@settings(max_examples=60, deadline=None)
@given(moe_shapes(), specs, st.integers(1, 4), st.integers(1, 50), st.integers(0, 2**31))
def test_routing_rules_hold_for_random_shapes(m, spec, layers, tokens, seed):
    experts = route(m, layers, tokens, spec, seed, tokens_per_sequence=7)
    assert experts.shape == (layers, tokens, m.top_k) and experts.dtype == np.uint16
    assert obeys(experts, m)
    assert violations(experts, m) == []


def test_violations_reports_broken_rules():
    assert violations(np.array([[[1, 1]]]), moe()) == ["a token uses the same expert twice"]
    assert "routed_experts" in violations(np.array([[[0, 16]]]), moe())[0]
    pangu = moe(16, 4, 4, "one_per_group")
    assert violations(np.array([[[0, 1, 8, 12]]]), pangu)     # two experts from group 0, none from 1
    deepseek = moe(16, 2, 4, "group_limited", topk_groups=1)
    assert violations(np.array([[[0, 4]]]), deepseek)         # two groups where one is allowed


def test_group_limited_keeps_within_topk_groups_at_deepseek_v3_shape():
    m = moe(256, 8, 8, "group_limited", topk_groups=4)
    experts = route(m, 3, 500, RoutingSpec(kind="zipf", s=1.0), seed=3)
    groups_used = [len(set(row // 32)) for row in experts.reshape(-1, 8)]
    assert max(groups_used) <= 4 and obeys(experts, m)


def test_one_per_group_rows_are_in_group_order():
    experts = route(moe(64, 8, 8, "one_per_group"), 2, 100, seed=1)
    assert (experts // 8 == np.arange(8)).all()


def test_determinism_for_a_seed():
    spec = RoutingSpec(kind="affinity", s=0.8, lam=0.5, reuse=0.2)
    a, b = (route(moe(), 4, 300, spec, seed=11) for _ in range(2))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, route(moe(), 4, 300, spec, seed=12))


def test_uniform_is_roughly_uniform():
    stats = load_stats(route(moe(16, 2), 3, 20000, seed=0), 16)
    # 40000 picks over 16 experts: 2500 each, binomial sd 48, so max/mean stays within ~8%
    assert (stats.max_over_mean < 1.08).all() and (stats.gini < 0.02).all()


def test_zipf_popularity_matches_and_larger_s_is_more_skewed():
    m = moe(16, 1)
    ginis = []
    for s in (0.0, 0.6, 1.0, 1.5):
        experts = route(m, 2, 20000, RoutingSpec(kind="zipf", s=s), seed=5)
        popularity = routing_model(RoutingSpec(kind="zipf", s=s), 16, 2, seed=5).popularity
        share = load_stats(experts, 16).counts / 20000
        assert np.abs(share - popularity).max() < 0.015          # top-1: frequencies follow p
        ginis.append(load_stats(experts, 16).gini.mean())
    assert ginis == sorted(ginis) and ginis[-1] > 0.5


def test_affinity_gives_the_designed_conditional():
    spec = RoutingSpec(kind="affinity", lam=0.6, successors=2)
    m, tokens = moe(8, 1), 40000
    experts = route(m, 2, tokens, spec, seed=9)[:, :, 0]
    model = routing_model(spec, 8, 2, seed=9)
    expected = 0.6 * model.affinity(0) + 0.4 * model.popularity[1]
    joint = np.zeros((8, 8))
    np.add.at(joint, (experts[0], experts[1]), 1)
    observed = joint / joint.sum(axis=1, keepdims=True)
    assert np.abs(observed - expected).max() < 0.03
    assert (np.count_nonzero(model.affinity(0), axis=1) == 2).all()


def test_affinity_with_top_k_concentrates_successors():
    spec = RoutingSpec(kind="affinity", lam=0.8, successors=2)
    experts = route(moe(32, 4), 2, 5000, spec, seed=2)
    model = routing_model(spec, 32, 2, seed=2)
    # share of next-layer picks that are successors of some current pick, vs popularity alone
    hit = [len(set(nxt) & set(np.flatnonzero(model.affinity(0)[cur].sum(axis=0)))) / 4
           for cur, nxt in zip(experts[0], experts[1])]
    assert np.mean(hit) > 0.6          # about 8 successor experts out of 32: chance is ~0.25


def test_temporal_reuse_rate():
    experts = route(moe(16, 2), 1, 20000, RoutingSpec(reuse=0.5), seed=4, tokens_per_sequence=100)[0]
    same = (np.sort(experts[1:], axis=1) == np.sort(experts[:-1], axis=1)).all(axis=1)
    inside = np.arange(1, 20000) % 100 != 0
    assert 0.47 < same[inside].mean() < 0.54            # 0.5 + 0.5 * chance (1/120)
    assert same[~inside].mean() < 0.05                  # sequence starts draw afresh


def test_spec_is_strict():
    with pytest.raises(ValidationError, match="lam"):
        RoutingSpec(kind="zipf", lam=0.3)
    with pytest.raises(ValidationError, match="path"):
        RoutingSpec(kind="file")
    with pytest.raises(ValidationError):
        RoutingSpec(kind="affinity", lam=1.0)
    with pytest.raises(ValidationError):
        RoutingSpec(kind="skewed")


def test_load_stats_closed_forms():
    stats = load_stats(np.array([[[3], [3], [3], [3]], [[0], [1], [2], [3]]]), 4)
    assert stats.counts.tolist() == [[0, 0, 0, 4], [1, 1, 1, 1]]
    assert stats.max_over_mean.tolist() == [4.0, 1.0]
    assert np.allclose(stats.gini, [0.75, 0.0])         # all on one of n: (n - 1) / n


def test_routing_file_round_trip_and_replay(tmp_path):
    m = moe(16, 4, 4, "group_limited", topk_groups=2)
    experts = route(m, 3, 40, RoutingSpec(kind="zipf", s=1.0), seed=1)
    path = tmp_path / "routing.npz"
    save_routing(path, experts, 16, model="tiny")
    assert np.array_equal(load_routing(path), experts)
    assert np.array_equal(route(m, 3, 40, RoutingSpec(kind="file", path=str(path))), experts)


def test_routing_file_errors(tmp_path):
    m = moe(16, 2)
    path = tmp_path / "r.npz"
    save_routing(path, route(m, 2, 10), 16)
    with pytest.raises(ValueError, match=r"shape \(2, 10, 2\) does not match"):
        route(m, 3, 10, RoutingSpec(kind="file", path=str(path)))
    save_routing(path, np.array([[[1, 1]]]), 16)
    with pytest.raises(ValueError, match="same expert twice"):
        route(m, 1, 1, RoutingSpec(kind="file", path=str(path)))
    np.savez(tmp_path / "v9.npz", format="hwsim-routing", version=9, experts=np.zeros((1, 1, 2), np.uint16))
    with pytest.raises(ValueError, match="version 9"):
        load_routing(tmp_path / "v9.npz")
    (tmp_path / "junk.npz").write_text("not numpy")
    with pytest.raises(ValueError, match="not a routing file"):
        load_routing(tmp_path / "junk.npz")


def test_decode_steps_reuse_through_sliced_routing():
    batch, steps = 400, 5
    ids = route(moe(16, 2), 1, batch * steps, RoutingSpec(reuse=0.3), seed=8, tokens_per_sequence=steps)
    step = [np.sort(ids[:, s::steps], axis=2) for s in range(steps)]     # one [1, batch, k] per step
    same = np.mean([(step[s + 1] == step[s]).all(axis=2).mean() for s in range(steps - 1)])
    assert 0.25 < same < 0.36          # 0.3 + 0.7 * chance (1/120)
