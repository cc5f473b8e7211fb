"""Scratchpad blocking, double-buffered pipeline, vector unit and DMA figures: closed forms."""
import pytest

from hwsim.components.dram.measure import row_conflict_latency_ns, streaming_GBps
from hwsim.components.dram.presets import load_preset
from hwsim.components.npu.dma import DmaParams, dma_figures
from hwsim.components.npu.mapper import GemmWork
from hwsim.components.npu.scratchpad import ACC_BYTES, block_gemm, pipelined_s, stream_steps
from hwsim.components.npu.vector_unit import VectorUnitParams, vector_cycles


def test_pipeline_closed_forms():
    assert pipelined_s(3.0, 5.0, 1, 1.0, True) == 9.0                       # nothing to overlap
    assert pipelined_s(3.0, 5.0, 4, 1.0, True) == 1.0 + 8 / 4 + 3 * 5 / 4  # first load, last compute exposed
    assert pipelined_s(3.0, 5.0, 4, 1.0, False) == 9.0                      # single buffer: alternate
    assert pipelined_s(6.0, 2.0, 10**9, 0.0, True) == pytest.approx(6.0)    # DMA-bound: compute stalls


def test_pipeline_never_beats_either_side():
    for steps in (1, 2, 7, 1000):
        for load, compute in ((1.0, 9.0), (9.0, 1.0), (4.0, 4.0)):
            assert pipelined_s(load, compute, steps, 0.0, True) >= max(load, compute)


def test_stream_steps_are_chunks_within_half_the_buffer():
    assert stream_steps(10_000, 1 << 20, True, 4096) == 3
    assert stream_steps(10_000, 4096, True, 4096) == 5          # 2 KB halves
    assert stream_steps(10_000, 4096, False, 4096) == 3
    assert stream_steps(0, 4096, True, 4096) == 1


def gemm(m, n, k, e=1.0):
    return GemmWork(m, n, k, 1, e * m * k, e * k * n, e * m * n)


def test_gemm_that_fits_is_read_once():
    w = gemm(64, 64, 64)
    b = block_gemm(w, 1 << 20, True, 1 << 30, 1e9, 0.0, 1e-6)
    assert (b.bm, b.bn, b.bk, b.steps) == (64, 64, 64, 1)
    assert b.dram_bytes == w.a_bytes + w.b_bytes + w.c_bytes


def test_small_scratchpad_rereads_operands():
    # 2 x (A strip + B strip) + accumulators must fit 8 KB: blocks shrink and A, B are re-read
    w = gemm(256, 256, 256)
    b = block_gemm(w, 8 * 1024, True, 1, 1e9, 0.0, 0.0)
    assert 2 * (b.bm * b.bk + b.bk * b.bn) + b.bm * b.bn * ACC_BYTES <= 8 * 1024
    reads = w.a_bytes * -(-256 // b.bn) + w.b_bytes * -(-256 // b.bm) + w.c_bytes
    assert b.dram_bytes == reads > w.a_bytes + w.b_bytes + w.c_bytes


def test_single_buffering_fits_bigger_blocks():
    w = gemm(256, 256, 256)
    double = block_gemm(w, 64 * 1024, True, 1, 1e9, 0.0, 0.0)
    single = block_gemm(w, 64 * 1024, False, 1, 1e9, 0.0, 0.0)
    assert single.dram_bytes <= double.dram_bytes


def test_scratchpad_too_small_is_an_error():
    with pytest.raises(ValueError, match="cannot hold one block"):
        block_gemm(gemm(8, 8, 8), 4, True, 1, 1e9, 0.0, 0.0)


def test_vector_cycles():
    unit = VectorUnitParams(lanes=16, latency_cycles={"softmax": 20})
    assert vector_cycles(unit, 4, "softmax", 5 * 1000) == 79 + 20     # ceil(5000 / 64) + depth
    assert vector_cycles(unit, 4, "norm", 64) == 1


def test_unknown_vector_kind_rejected():
    with pytest.raises(ValueError, match="unknown vector op kind"):
        VectorUnitParams(lanes=4, latency_cycles={"sofmax": 3})


def test_dma_from_the_cycle_level_dram_preset():
    spec = load_preset("DDR4_3200AA")
    bandwidth, latency = dma_figures(DmaParams(dram="DDR4_3200AA", channels=8))
    assert bandwidth == pytest.approx(8 * streaming_GBps(spec, "all_bank") * 1e9)
    assert latency == pytest.approx(row_conflict_latency_ns(spec) * 1e-9)
    assert 0.85 * 8 * 25.6e9 < bandwidth < 8 * 25.6e9              # below the 25.6 GB/s peak per channel


def test_dma_needs_exactly_one_source():
    with pytest.raises(ValueError, match="either bandwidth and latency, or a dram preset"):
        DmaParams(bandwidth="1GB/s")
    with pytest.raises(ValueError, match="either bandwidth and latency, or a dram preset"):
        DmaParams(bandwidth="1GB/s", latency="1ns", dram="DDR4_3200AA")
    with pytest.raises(ValueError, match="unknown DRAM preset"):
        DmaParams(dram="DDR4_3200")
