"""Expert placement policies: affinity cuts cross-device traffic, grouped routing balances by
construction, EPLB-style redundancy flattens skewed load; exact small cases for the counters."""
import numpy as np
import pytest

from hwsim.mapping.placement import (Placement, cross_device_pairs, device_load, dispatch_pairs, imbalance,
                                     place)
from hwsim.workload.model import load_model
from hwsim.workload.routing import RoutingSpec, route


def _routing(name, tokens, spec, seed=1):
    model = load_model(name)
    layers = sum(model.is_moe_layer(layer) for layer in range(model.layers))
    return model.moe, route(model.moe, layers, tokens, spec, seed)


@pytest.mark.parametrize("name, devices", [("mixtral-8x7b", 4), ("deepseek-v3", 8)])
def test_affinity_placement_cuts_cross_device_traffic_on_held_out_tokens(name, devices):
    moe, ids = _routing(name, 4096, RoutingSpec(kind="affinity", lam=0.8, successors=2))
    history, step = ids[:, :2048], ids[:, 2048:]          # learn on one half, measure on the other
    layers, experts = ids.shape[0], moe.routed_experts
    round_robin = cross_device_pairs(place("round_robin", devices, experts, layers), step)
    affinity = cross_device_pairs(place("affinity", devices, experts, layers, history), step)
    assert affinity < 0.8 * round_robin
    # without inter-layer affinity in the routing there is nothing to exploit
    moe, plain = _routing(name, 4096, RoutingSpec(kind="uniform"))
    learned = place("affinity", devices, experts, layers, plain[:, :2048])
    baseline = cross_device_pairs(place("round_robin", devices, experts, layers), plain[:, 2048:])
    assert cross_device_pairs(learned, plain[:, 2048:]) == pytest.approx(baseline, rel=0.05)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pangu_grouped_routing_on_grouped_placement_is_balanced_by_construction(seed):
    moe, ids = _routing("pangu-pro-moe", 1000, RoutingSpec(kind="zipf", s=1.2), seed)
    grouped = place("grouped", 8, moe.routed_experts, ids.shape[0], groups=moe.groups)
    load = device_load(grouped, ids)
    assert (load == 1000).all()                           # one expert per group, one group per device
    assert (imbalance(load) == 1.0).all()
    spread = place("round_robin", 8, moe.routed_experts, ids.shape[0])
    assert imbalance(device_load(spread, ids)).mean() > 1.1
    # four devices hold two groups each: still exact
    assert (device_load(place("grouped", 4, 64, ids.shape[0], groups=8), ids) == 2000).all()


def test_load_balanced_placement_with_redundant_experts_flattens_skewed_load():
    moe, ids = _routing("qwen3-30b-a3b", 4096, RoutingSpec(kind="zipf", s=1.0))
    history, step = ids[:, :2048], ids[:, 2048:]
    layers, experts = ids.shape[0], moe.routed_experts
    balanced = place("load_balanced", 8, experts, layers, history, redundant=16)
    for copies in balanced.copies:
        assert sum(len(c) for c in copies) == experts + 16
        slots = np.bincount([d for c in copies for d in c], minlength=8)
        assert (slots == (experts + 16) // 8).all()
    round_robin = imbalance(device_load(place("round_robin", 8, experts, layers), step)).mean()
    assert imbalance(device_load(balanced, step)).mean() < 0.85 * round_robin
    assert imbalance(device_load(balanced, step)).mean() < 1.1


def test_counters_on_a_hand_checked_case():
    # 4 experts on 2 devices; expert 3 has a second copy on device 0, used by odd tokens
    placement = Placement(2, (((0,), (1,), (0,), (1, 0)), ((0,), (0,), (1,), (1,))))
    ids = np.array([[[0, 3], [1, 3], [2, 0]],            # layer 0: tokens 0, 1, 2
                    [[2, 3], [0, 1], [0, 2]]])           # layer 1
    assert placement.device_of(0, ids[0]).tolist() == [[0, 1], [1, 0], [0, 0]]
    assert device_load(placement, ids).tolist() == [[4, 2], [3, 3]]
    # token 0 leaves {0,1} for {1}: 0 new; token 1 {0,1} -> {0}: 0; token 2 {0} -> {0,1}: 1
    assert cross_device_pairs(placement, ids) == 1
    # homes 0, 1, 1: token 0 -> {0,1}, token 1 -> {0,1}, token 2 -> {0}
    assert dispatch_pairs(placement, 0, ids[0], np.array([0, 1, 1])).tolist() == [[1, 1], [2, 1]]


def test_placement_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="unknown placement policy 'random'"):
        place("random", 8, 64, 1)
    with pytest.raises(ValueError, match="8 groups do not divide over 3 devices"):
        place("grouped", 3, 64, 1, groups=8)
    with pytest.raises(ValueError, match="needs a calibration routing"):
        place("affinity", 8, 64, 2)
    with pytest.raises(ValueError, match="load_balanced placement only"):
        place("round_robin", 8, 64, 2, redundant=8)
