"""The expert-offload device: stalls equal transfers, demand goes ahead of prefetch, prefetch turns
misses into hits when right and costs bandwidth when wrong, affinity routing helps, floors hold."""
import pytest

from hwsim.components.expert_cache.backing import Backing
from hwsim.components.expert_cache.transfers import TransferQueue
from hwsim.machine import machine_from_dict
from hwsim.step import simulate_steps
from hwsim.step import run_trace
from hwsim.workload.model import ModelSpec
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision
from hwsim.workload.routing import RoutingSpec
from hwsim.workload.trace import Trace

MB = 1e6
PCIE4 = 32e9          # pcie4_x16 preset: 32 GB/s, no latency or framing


def _machine(capacity="100MB", predictor="none", policy="lru", backing=None):
    return machine_from_dict({
        "name": "offload-test", "description": "test", "source": "test",
        "components": {"dev": {"type": "expert_offload", "source": "test", "peak": {"bf16": "1PFLOPS"},
                               "memory": {"capacity": "1TB", "bandwidth": "1TB/s"},
                               "cache": {"capacity": capacity, "policy": policy},
                               "backing": backing or {"link": "pcie4_x16"},
                               "prefetch": {"predictor": predictor}}},
        "mapping": {"default": "dev"}})


def _trace(steps, size=1 * MB):
    """A serial chain: per step, per (layer, expert): expert{e}.up then expert{e}.down, size B each."""
    ops = []
    for step in steps:
        for layer, expert in step:
            for part in ("up", "down"):
                ops.append(Op(len(ops), f"expert{expert}.{part}", "matmul", layer, 0.0, "bf16",
                              weight_bytes=size, expert=expert, deps=(len(ops) - 1,) if ops else ()))
    return Trace(tuple(ops), "hand", "decode", 1, 0, Precision())


def _stats(machine, trace):
    report = run_trace(machine, trace)
    assert report.latency_s * (1 + 1e-9) >= report.floor_s
    return report, report.components["dev"]


def test_a_cold_miss_stalls_the_expert_for_exactly_its_transfer():
    report, stats = _stats(_machine(), _trace([[(0, 0)]]))
    transfer = 1 * MB / PCIE4                                       # 31.25 us per matrix
    compute = 1 * MB / 1e12                                         # reading it from fast memory
    # the first expert ever: each matrix is fetched when its matmul arrives and waits all of it
    assert stats["stall_s"] == pytest.approx(2 * transfer, abs=2e-12)
    assert report.latency_s == pytest.approx(2 * (transfer + compute), abs=2e-12)
    assert stats["expert_hits"] == 0 and stats["fetched_bytes"] == 2 * MB
    # from then on an expert's matrices are fetched together at its first matmul
    report, stats = _stats(_machine(), _trace([[(0, 0), (1, 1)]]))
    assert stats["stall_s"] == pytest.approx(2 * transfer + transfer + (transfer - compute), abs=4e-12)


def test_a_cold_miss_from_flash_stalls_for_the_page_reads():
    backing = Backing(flash="nvmevirt_970pro", interface="7GB/s")
    machine = _machine(backing={"flash": "nvmevirt_970pro", "interface": "7GB/s"})
    _, stats = _stats(machine, _trace([[(0, 0)]], size=32768))       # one 32 KB page per matrix
    page = backing.transfer_ps(32768) * 1e-12
    assert page == pytest.approx(77.148e-6)                          # command + tR 36 us + 32 KB at 800 MB/s
    assert stats["stall_s"] == pytest.approx(2 * page, abs=2e-12)


def test_a_second_touch_hits_and_does_not_stall():
    _, stats = _stats(_machine(), _trace([[(0, 0)], [(0, 0)]]))
    assert (stats["expert_accesses"], stats["expert_hits"]) == (2, 1)
    assert stats["fetched_bytes"] == 2 * MB


# three MoE layers, one expert each, in a cache of two experts: LRU cycles and never hits
CYCLE = [[(0, 0), (1, 1), (2, 2)]] * 3


def test_right_prefetch_turns_misses_into_hits():
    _, plain = _stats(_machine("4MB"), _trace(CYCLE))
    _, fetched = _stats(_machine("4MB", "affinity"), _trace(CYCLE))
    assert plain["expert_hits"] == 0
    # steps 2 and 3: layer 1 and 2 experts arrive ahead, predicted from the layer before
    assert fetched["expert_hits"] == 4 and fetched["wasted_prefetches"] == 0
    assert fetched["prefetches"] == 8                       # 4 experts x (up, down)
    assert fetched["stall_s"] < plain["stall_s"]


def test_wrong_prefetch_costs_bandwidth_and_time():
    right = [[(0, 0), (1, 1), (2, 2)]] * 2                  # learns 0 -> 1 -> 2 ...
    surprise = right + [[(0, 0), (1, 3), (2, 2)]]           # ... then layer 1 goes elsewhere
    _, plain = _stats(_machine("4MB"), _trace(surprise))
    _, fetched = _stats(_machine("4MB", "affinity"), _trace(surprise))
    # step 3: expert 1's up was on the wire when expert 3 was routed (its bandwidth is lost and
    # expert 3 waits behind it); its down had not started and is cancelled
    assert fetched["wasted_prefetches"] == 1 and fetched["cancelled_prefetches"] == 1
    assert fetched["fetched_bytes"] + fetched["prefetched_bytes"] == plain["fetched_bytes"] + 1 * MB
    assert fetched["stall_s"] > plain["stall_s"]


def test_demand_transfers_go_ahead_of_waiting_prefetches():
    queue = TransferQueue(lambda nbytes: int(nbytes))       # 1 ps per byte
    queue.request("p1", 100, 0, demand=False)               # starts at once: 0 .. 100
    queue.request("p2", 100, 0, demand=False)               # waits: 100 .. 200
    queue.request("d", 50, 10, demand=True)                 # after p1, ahead of p2
    assert (queue.arrival["p1"], queue.arrival["d"], queue.arrival["p2"]) == (100, 150, 250)
    queue.promote("p2", 20)
    queue.request("d2", 10, 30, demand=True)                # behind the promoted p2
    assert (queue.arrival["p2"], queue.arrival["d2"]) == (250, 260)
    assert queue.cancel(lambda key: True, 40) == []         # nothing left that is a waiting prefetch


TINY = ModelSpec.model_validate({
    "name": "tiny-moe", "family": "test", "source": "test", "layers": 8, "hidden": 256, "vocab": 1000,
    "max_position": 4096, "positional": "rope", "norm": "rmsnorm", "tied_embeddings": False,
    "attention": {"kind": "gqa", "heads": 4, "kv_heads": 4}, "ffn": {"activation": "silu", "gated": True},
    "moe": {"routed_experts": 16, "top_k": 2, "expert_intermediate": 512}, "dtype": "bf16",
    "published": {"total_params": 0, "source": "test"}})


def test_affinity_routing_gives_prefetch_a_higher_hit_rate_than_uniform_routing():
    expert = 3 * 256 * 512 * 2                              # bytes of one bf16 SwiGLU expert
    machine = _machine(f"{24 * expert}B", "affinity")
    rates = {}
    for name, routing in (("uniform", RoutingSpec(kind="uniform")),
                          ("affinity", RoutingSpec(kind="affinity", lam=0.9, successors=1))):
        report = simulate_steps(machine, TINY, steps=24, batch=1, context=64, routing=routing, seed=3)
        rates[name] = report.components["dev"]["expert_hit_rate"]
        assert report.tokens == 24 and report.steps == 24
    assert rates["affinity"] > rates["uniform"] + 0.15


@pytest.mark.parametrize("machine, model", [("edge_moe_flash", "mixtral-8x7b"),
                                            ("h100_host_expert_offload", "deepseek-v2-lite")])
def test_shipped_offload_machines_run_moe_models_cold(machine, model):
    from hwsim.step import simulate
    report = simulate(machine, model, batch=1, context=256)
    stats = next(iter(report.components.values()))
    assert stats["expert_hits"] == 0 and stats["stall_s"] > 0        # one step from a cold cache
    assert "expert cache" in report.summary()
