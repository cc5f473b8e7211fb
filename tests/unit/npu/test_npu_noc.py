"""NPU with a `noc:` block: operand packets timed on the cycle-level NoC. Zero-load times equal the
router pipeline formula, hot spots cost what their port allows, windows scale like full runs, no
operator beats its roofline floor, and machines without `noc:` time exactly as before."""
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from hwsim.components.interconnect.noc import RouterSpec, crossbar, mesh, simulate_noc, torus
from hwsim.components.npu.mapper import GemmWork, plan_gemm
from hwsim.components.npu.noc import NocParams, network_cycles
from hwsim.components.npu.noc_traffic import gemm_traffic, packets, stream_traffic, striped
from hwsim.config.errors import ConfigError
from hwsim.engine import Simulator
from hwsim.machine import load_machine, machine_from_dict
from hwsim.step import run_trace, simulate
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision
from hwsim.workload.tracefile import Trace
from npu_machines import npu_machine
from test_npu_component import matmul

BF16 = Precision("bf16", "bf16", "bf16")
TOPOLOGIES = {"mesh": ([4, 4], mesh(4)), "torus": ([4, 4], torus(4)), "crossbar": ([16], crossbar(16))}


def noc(topology="mesh", dims=(2, 2), **overrides) -> dict:
    return {"topology": topology, "dims": list(dims), "clock": "1GHz", "flit_bytes": "16B",
            "packet_bytes": "64B", **overrides}


def npu(**overrides):
    return npu_machine(**overrides).build(Simulator())["npu"]


@pytest.mark.parametrize("kind", TOPOLOGIES)
def test_one_packet_takes_the_zero_load_latency_of_its_path(kind):
    dims, topology = TOPOLOGIES[kind]
    params = NocParams(**noc(kind, dims))
    router, flits = params.router, params.flits
    for src in range(16):
        for dst in range(16):
            counts = np.zeros((16, 16), np.int64)
            counts[src, dst] = 1
            hops = topology.routers_on_path(np.array([src]), np.array([dst]))[0]
            assert network_cycles(params, counts) == router.zero_load_latency(hops, flits)


def test_tiny_gemm_sends_three_local_packets_back_to_back():
    """A 1x1x1 GEMM on one tile: A and B come from its own slice, C goes back to it; the three
    4-flit packets leave terminal 0 one after the other: last tail = 2 x 4 + zero-load(1 router)."""
    n = npu(noc=noc())
    t = n.time(matmul(1, 1, 1))
    assert t.scratchpad_s == pytest.approx((2 * 4 + RouterSpec().zero_load_latency(1, 4)) * 1e-9)


def test_a_hot_spot_is_port_bound_and_slower_than_uniform_traffic():
    params = NocParams(**noc("mesh", (4, 4)))
    uniform = stream_traffic(16 * 64 * 160, 0, 16, 64)           # every tile reads 160 packets, striped
    hot = np.zeros((16, 16), np.int64)
    hot[:, 0] = 160                                              # the same packets all go to tile 0
    assert uniform.sum() == hot.sum() == 2560
    hot_cycles, uniform_cycles = network_cycles(params, hot), network_cycles(params, uniform)
    assert hot_cycles >= 2560 * 4                                # tile 0 ejects one flit per cycle
    assert uniform_cycles >= 160 * 4 and uniform_cycles < hot_cycles / 4


def test_striping_starts_at_each_tiles_own_slice():
    counts = striped(np.array([64 * 5, 64 * 2, 1.0]), 4, 64)    # 5, 2 and 1 packets over 4 slices
    assert counts.T.tolist() == [[2, 1, 1, 1], [0, 1, 1, 0], [0, 0, 1, 0]]
    order = packets(np.array([[0, 2], [1, 0]]), 3)
    assert order.src.tolist() == [0, 0, 1] and order.dst.tolist() == [1, 1, 0] and (order.flits == 3).all()


def test_gemm_traffic_moves_the_plans_bytes():
    work = GemmWork(64, 256, 128, 2, 2.0 * 2 * 64 * 128, 2.0 * 2 * 128 * 256, 2.0 * 2 * 64 * 256)
    plan = plan_gemm(work, 16, 8, 8, 1, 256.0)
    counts = gemm_traffic(plan, work, 16, 64)
    assert counts.sum() * 64 == pytest.approx(plan.noc_bytes, rel=0.01)   # whole packets, evenly split


@pytest.mark.parametrize("kind,window,tolerance", [("mesh", 1024, 0.05), ("crossbar", 1024, 0.05),
                                                  ("torus", 4096, 0.08)])
@pytest.mark.parametrize("pattern", ["uniform", "four_tiles"])
def test_window_scaling_matches_the_full_simulation(kind, window, tolerance, pattern):
    """A pattern of ~24k packets timed from a window of `window` packets (once and twice over)
    against every packet simulated. The saturated torus (2 VCs per dateline class) settles slowest
    and fluctuates most: it needs the longer window and is held to 8%, the others to 5%."""
    dims, topology = TOPOLOGIES[kind]
    params = NocParams(**noc(kind, dims, flit_bytes="32B", packet_bytes="128B", window_packets=window))
    if pattern == "uniform":
        counts = stream_traffic(16 * 128 * 1200, 16 * 128 * 300, 16, 128)
    else:
        counts = np.zeros((16, 16), np.int64)
        counts[:, :4] = 375
    full = simulate_noc(topology, params.router, packets(counts, params.flits)).ejected.max()
    assert counts.sum() > 5 * window
    assert network_cycles(params, counts) == pytest.approx(full, rel=tolerance)


def test_noc_dims_must_match_the_tiles_and_be_square():
    with pytest.raises(ConfigError, match="4 routers for 8 tiles"):
        npu_machine(tiles=8, noc=noc())
    with pytest.raises(ConfigError, match=r"dims \[k, k\]"):
        npu_machine(tiles=8, noc=noc(dims=(2, 4)))
    with pytest.raises(ConfigError, match="multiple of flit_bytes"):
        npu_machine(noc=noc(packet_bytes="40B"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=st.integers(1, 2000), n=st.integers(1, 2000), k=st.integers(1, 2000), count=st.integers(1, 16),
       topology=st.sampled_from(["mesh", "torus", "crossbar"]), mapper=st.sampled_from(["heuristic", "search"]))
def test_random_gemms_on_the_noc_never_beat_their_roofline_floor(m, n, k, count, topology, mapper):
    dims = (4,) if topology == "crossbar" else (2, 2)
    machine = npu_machine(mapper=mapper, noc=noc(topology, dims, window_packets=256))
    op = matmul(m, n, k, count, "bf16", e=2.0)
    trace = Trace(ops=(op,), model="random", phase="prefill", batch=1, context=m, precision=BF16)
    report = run_trace(machine, trace)          # raises RooflineViolation below any floor
    assert report.latency_s >= op.total_bytes / 64e9


def test_machines_without_noc_time_exactly_as_before():
    """Durations recorded before the `noc:` block existed."""
    n = npu(mapper="search")
    softmax = Op(id=0, name="softmax", kind="softmax", layer=0, flops=5e6, compute_dtype="bf16",
                 act_in_bytes=2e6, act_out_bytes=2e6)
    ops = [matmul(1, 4096, 4096, dtype="bf16", e=2.0), matmul(512, 512, 512),
           matmul(100, 300, 70, count=12, dtype="bf16", e=2.0), softmax]
    assert [n.time(op).duration_s for op in ops] == [0.0005262440468749999, 0.000273573, 0.00011316937103174602,
                                                     7.830897134083931e-05]
    report = simulate("nvidia_t4_tiles", "llama2-7b", phase="decode", batch=1, context=128,
                      precision=Precision("fp16", "fp16", "fp16"))
    assert report.latency_s == 0.041784968017


def test_npu_4x4_mesh_machine_pays_for_its_mesh():
    """Uniform operand traffic saturates the mesh below its injection peak, which the aggregate
    model (16 banks x 32 B, the same peak) takes as reachable."""
    machine = load_machine("npu_4x4_mesh")
    npu_ = machine.build(Simulator())["npu"]
    spec = yaml.safe_load(open(Path(__file__).parents[3] / "architectures" / "npu_4x4_mesh.yaml"))
    del spec["components"]["npu"]["noc"]
    aggregate = machine_from_dict(spec).build(Simulator())["npu"]
    assert npu_.peak_flops("bf16") == 16 * 32 * 32 * 2 * 1e9
    assert npu_.capacity("scratchpad") == 16 * 32 * 1e9
    params = machine.spec.components["npu"]
    assert params["source"] and params["assumptions"] and params["noc"]["dims"] == [4, 4]
    op = matmul(512, 4096, 4096, dtype="bf16", e=2.0)
    with_noc, without = npu_.time(op), aggregate.time(op)
    assert with_noc.used == without.used and with_noc.compute_s == without.compute_s
    assert with_noc.scratchpad_s > 1.2 * without.scratchpad_s
    assert without.scratchpad_s == with_noc.used["scratchpad"] / npu_.capacity("scratchpad")
