"""The streaming pipeline of a fused dataflow kernel (hwsim.components.dataflow.pipeline), in closed
forms on a made-up fabric of round numbers: PMUs a stage holds, whether a chain fits, PCU shares,
stage times, tiles, fill and the kernel's time."""
import math

import pytest

from hwsim.components.dataflow import pipeline
from hwsim.components.dataflow.pipeline import Fabric
from hwsim.workload.model import load_model
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision
from hwsim.workload.trace import generate_trace

KB = 1024
FABRIC = Fabric(pcus=10, pmus=8, sram=8 * 4 * KB, peak=10e9, hbm=1e9)   # 4 KiB PMUs, 1 GFLOP/s a PCU


def op(i, flops=0.0, out=0.0, m=4, count=1, weights=0.0, kv=0.0, act_in=0.0):
    return Op(i, f"op{i}", "matmul", 0, flops, "bf16", weight_bytes=weights, act_in_bytes=act_in,
              act_out_bytes=out, kv_read_bytes=kv, m=m, count=count)


def test_a_stage_holds_its_output_row_double_buffered_and_a_pmu_per_offchip_stream():
    assert FABRIC.pmu_bytes == 4 * KB
    assert pipeline.stage_pmus(op(0, out=4 * 3 * KB), 4, FABRIC) == 2            # 2 x 3 KiB rows: 1.5 PMUs
    assert pipeline.stage_pmus(op(0, out=4 * 1 * KB), 4, FABRIC) == 1            # at least one
    assert pipeline.stage_pmus(op(0, out=4 * KB, weights=1, kv=1), 4, FABRIC) == 3
    assert pipeline.stage_pmus(op(0, out=4 * 8 * 3 * KB, count=8), 4, FABRIC) == 2   # a row is one product's
    assert pipeline.row_bytes(op(0, out=100, m=0), 5) == 20                       # no shape: the chain's rows


def test_a_chain_fits_while_its_pmus_and_stages_are_on_the_chip():
    three = [op(0, out=4 * 3 * KB), op(1, out=4 * 3 * KB), op(2, out=4 * 3 * KB, weights=1)]   # 2 + 2 + 3 PMUs
    assert pipeline.fits(three, FABRIC)
    assert not pipeline.fits(three + [op(3, out=4 * 3 * KB)], FABRIC)                          # 9 > 8 PMUs
    assert not pipeline.fits([op(i) for i in range(11)], Fabric(10, 100, 400 * KB, 1, 1))       # 11 stages > 10 PCUs


def test_pcus_go_one_a_stage_then_by_flops_rounded_down():
    assert pipeline.pcu_shares([op(0, flops=3), op(1, flops=1)], FABRIC) == [1 + 6, 1 + 2]
    assert pipeline.pcu_shares([op(0), op(1)], FABRIC) == [1, 1]


def test_a_stage_takes_its_flops_on_its_pcus_or_its_offchip_bytes_at_full_bandwidth():
    stages = [op(0, flops=3e9), op(1, flops=1e9, weights=5e9)]
    assert pipeline.stage_seconds(stages, FABRIC) == pytest.approx([3e9 / (7 * 1e9), 5e9 / 1e9])


def test_a_stage_streams_its_inputs_in_half_pmu_tiles_or_whole_rows():
    assert pipeline.tiles(op(0, act_in=10 * KB, weights=6 * KB, out=4 * KB), 4, FABRIC) == 8    # 16 KiB / 2 KiB
    assert pipeline.tiles(op(0, act_in=12 * KB, out=4 * 3 * KB), 4, FABRIC) == 4               # 3 KiB rows
    assert pipeline.tiles(op(0), 4, FABRIC) == 1


def test_a_kernel_is_its_slowest_stage_or_its_hbm_stream_plus_the_fill():
    stages = [op(0, flops=3e9, act_in=4 * KB), op(1, flops=1e9, weights=8 * KB)]
    t0, t1 = 3e9 / 7e9, 1e9 / 3e9
    fill = t0 / 2 + t1 / 4
    assert pipeline.fill_seconds(stages, FABRIC) == pytest.approx(fill)
    assert pipeline.kernel_seconds(stages, 1e6, FABRIC) == (pytest.approx(t0 + fill), "compute")
    assert pipeline.kernel_seconds(stages, 1e9, FABRIC) == (pytest.approx(1.0 + fill), "memory")


def test_one_operator_alone_is_the_roofline_plus_one_tile():
    alone = op(0, flops=4e9, act_in=8 * KB)
    roofline = max(4e9 / FABRIC.peak, 8 * KB / FABRIC.hbm)
    assert pipeline.kernel_seconds([alone], 8 * KB, FABRIC)[0] == pytest.approx(roofline + roofline / 4)


def test_a_4k_prefill_layer_streams_on_sn40l_though_its_intermediates_exceed_the_sram():
    """The defect this model fixes: 1 GiB of scores and softmax a layer, but a row of at most 8 KiB
    (a head's causal scores for one query: 4 KiB on average)."""
    sn40l = Fabric(pcus=1040, pmus=1040, sram=520 * 2**20, peak=638e12, hbm=1.6e12)
    trace = generate_trace(load_model("llama2-7b"), "prefill", 1, 4096, Precision("bf16", "bf16", "bf16"))
    layer = [o for o in trace.ops if o.layer == 0]
    assert sum(o.act_out_bytes for o in layer) > sn40l.sram
    scores = next(o for o in layer if o.kind == "attn_score")
    assert pipeline.row_bytes(scores, 4096) == (4096 + 1) / 2 * 2        # causal: (4096 + 1) / 2 keys on average
    assert pipeline.fits(layer, sn40l)
    assert sum(pipeline.stage_pmus(o, 4096, sn40l) for o in layer) == len(layer) + sum(
        (o.weight_bytes > 0) + (o.kv_read_bytes > 0) for o in layer)           # every row fits one PMU
    assert math.isclose(sum(o.flops for o in layer) / sn40l.peak,
                        pipeline.kernel_seconds(layer, 0, sn40l)[0], rel_tol=0.05)   # compute-bound, balanced
