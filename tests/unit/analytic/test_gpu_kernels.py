"""analytic_device's GPU kernel mechanisms in closed form: sustained bandwidth, matmul tiles in waves
over SMs (tile and wave quantisation), split-K, operand loads through the L2; a device without them
keeps the plain roofline."""
import math
from dataclasses import replace

import pytest

from hwsim.components.base import run_alone
from hwsim.workload.ops import Op

PEAK, BW, SUSTAINED = 100e12, 1e12, 0.8e12
PER_SM = 1e12          # GEMM at 4% of the 100 TFLOPS peak: 4 TFLOPS over 4 SMs
GEMM = {"source": "test", "sms": 4, "tiles": [[64, 64]], "efficiency": {"fp16": 0.04}}


def _gpu(**extra):
    return {"type": "analytic_device", "source": "test", "peak": {"fp16": "100TFLOPS"},
            "memory": {"capacity": "1TB", "bandwidth": "1TB/s", **extra.pop("memory", {})}, **extra}


def _matmul(m, n, k, count=1):
    return Op(0, "mm", "matmul", 0, 2.0 * m * n * k * count, "fp16", weight_bytes=2.0 * k * n * count,
              act_in_bytes=2.0 * m * k * count, act_out_bytes=2.0 * m * n * count, m=m, n=n, k=k, count=count)


def _seconds(raw, op):
    (run,), component = run_alone("gpu", raw, [op])
    return (run.end_ps - run.start_ps) * 1e-12, component


def test_without_mechanisms_the_roofline_is_unchanged():
    op = _matmul(4096, 4096, 4096)
    seconds, _ = _seconds(_gpu(), op)
    assert seconds == pytest.approx(max(op.flops / PEAK, op.total_bytes / BW), rel=1e-9)


def test_sustained_bandwidth_times_bytes_and_the_floor_keeps_the_peak():
    op = Op(0, "add", "elementwise", 0, 1e6, "fp16", act_in_bytes=2e6, act_out_bytes=1e6)
    seconds, component = _seconds(_gpu(memory={"efficiency": 0.8}), op)
    assert seconds == pytest.approx(3e6 / SUSTAINED, rel=1e-9)
    memory = next(r for r in component.resources() if r.name.endswith("memory"))
    assert memory.floor_s == pytest.approx(3e6 / BW, rel=1e-9)


@pytest.mark.parametrize("m, waves", [(128, 1), (256, 1), (257, 2), (512, 2)])
def test_waves_of_padded_tiles(m, waves):
    # n = 64: one tile column; tiles = ceil(m / 64); 4 SMs run 4 tiles per wave, each 2*64*64*k
    # FLOPs at 4e12 / 4 per SM; k large so compute dominates the bytes.
    k = 1 << 16
    op = _matmul(m, 64, k)
    seconds, _ = _seconds(_gpu(gemm={**GEMM, "split_k": False}), op)
    assert seconds == pytest.approx(waves * 2 * 64 * 64 * k / PER_SM, rel=1e-9)


def test_the_fastest_tile_is_picked():
    # m = 32: a 64x64 tile pads m to 64; a 32x128 tile does not, and one wave covers n = 512.
    op = _matmul(32, 512, 1 << 16)
    gemm = {**GEMM, "split_k": False, "tiles": [[64, 64], [32, 128]]}
    seconds, _ = _seconds(_gpu(gemm=gemm), op)
    only_64, _ = _seconds(_gpu(gemm={**GEMM, "split_k": False}), op)
    assert seconds == pytest.approx(2 * 32 * 128 * op.k / PER_SM, rel=1e-9)
    assert only_64 == pytest.approx(2 * 2 * 64 * 64 * op.k / PER_SM, rel=1e-9)


def test_split_k_spreads_one_tile_over_idle_sms_and_pays_for_the_partial_sums():
    # one 64x64 tile and 4 SMs: k splits in 4; fp32 partials (64*64*4 slices) written and read once
    k = 1 << 16
    op = _matmul(64, 64, k)
    seconds, _ = _seconds(_gpu(gemm=GEMM), op)
    compute = 2 * 64 * 64 * math.ceil(k / 4) / PER_SM
    memory = op.total_bytes / BW + 2 * 4 * 64 * 64 * 4 / BW
    assert seconds == pytest.approx(max(compute, memory), rel=1e-9)
    unsplit, _ = _seconds(_gpu(gemm={**GEMM, "split_k": False}), op)
    assert seconds == pytest.approx(unsplit / 4, rel=1e-9)


@pytest.mark.parametrize("m, tiles, waves, a_reads, b_reads", [
    (256, [[64, 64]], 4, 4, 4),                 # 16 tiles: A once per tile column, B once per tile row
    (256, [[64, 64], [128, 128]], 1, 2, 2),     # 128x128 tiles reuse twice as much: one wave, half the loads
    (1, [[64, 64]], 1, 4, 1),                   # one row: A's single row per tile column, B once
])
def test_tiles_load_their_operands_through_the_l2(m, tiles, waves, a_reads, b_reads):
    # n = 256, k = 4096, 50 GB/s of L2: (m x a_reads + n x b_reads) x k fp16 elements (the longer here), or the
    # tiles' compute (4 SMs), whichever is longer
    k, l2 = 4096, 50e9
    op = _matmul(m, 256, k)
    seconds, _ = _seconds(_gpu(gemm={**GEMM, "split_k": False, "tiles": tiles, "l2_bandwidth": "50GB/s"}), op)
    rows = tiles[-1][0]
    compute = waves * 2 * rows * rows * k / PER_SM
    operands = (m * a_reads + 256 * b_reads) * k * 2 / l2
    assert seconds == pytest.approx(max(compute, operands, op.total_bytes / BW), rel=1e-9)


@pytest.mark.parametrize("streaming, bandwidth", [(None, SUSTAINED), (0.5, 0.5 * BW)])
def test_memory_bound_matmul_streams_at_the_gemm_share_or_the_sustained_bandwidth(streaming, bandwidth):
    op = _matmul(1, 8192, 8192)          # a GEMV: bytes dominate
    fast = {**GEMM, "efficiency": {"fp16": 1.0}, "streaming": streaming}
    seconds, _ = _seconds(_gpu(gemm=fast, memory={"efficiency": 0.8}), op)
    assert seconds == pytest.approx(op.total_bytes / bandwidth, rel=1e-9)
    add = Op(0, "add", "elementwise", 0, 1e6, "fp16", act_in_bytes=2e6, act_out_bytes=1e6)
    other, _ = _seconds(_gpu(gemm=fast, memory={"efficiency": 0.8}), add)
    assert other == pytest.approx(3e6 / SUSTAINED, rel=1e-9)      # not a matmul: memory.efficiency


ROWS = {"source": "test", "sms": 4, "threads_per_sm": 2048, "latency": "1us",
        "kernels": {"norm": {"block": 1024, "passes": 2},
                    "rope": {"block": 512, "elements_per_thread": 2, "extra_round_trips": 1}}}


def _rows_op(kind, rows, width):
    return Op(0, kind, kind, 0, rows * width, "fp16", act_in_bytes=2.0 * rows * width,
              act_out_bytes=2.0 * rows * width, m=rows)


@pytest.mark.parametrize("kind, rows, width, seconds", [
    # norm: 1024 threads, 4096 / 1024 = 4 iterations x 2 passes = 8 round trips; 2 blocks per SM x 4 SMs
    ("norm", 1, 4096, 8e-6), ("norm", 8, 4096, 8e-6), ("norm", 9, 4096, 16e-6),
    # a narrow row: 256 threads, one iteration per pass; 8 blocks per SM
    ("norm", 32, 256, 2e-6), ("norm", 33, 256, 4e-6),
    # rope: 4096 outputs = 2048 pairs over 512 threads = 4 iterations + the position load
    ("rope", 1, 4096, 5e-6),
])
def test_row_kernels_wait_on_round_trips_in_waves(kind, rows, width, seconds):
    simulated, _ = _seconds(_gpu(rows=ROWS), _rows_op(kind, rows, width))
    assert simulated == pytest.approx(seconds, rel=1e-9)


def _rope(tokens, query, key):
    """Rope over `tokens` rows of `query` + `key` fp16 elements, the first `query` of them the query
    heads' (op.n), as the trace builds it."""
    elements = tokens * (query + key)
    return Op(0, "rope", "rope", 0, 3.0 * elements, "fp16", act_in_bytes=2.0 * elements,
              act_out_bytes=2.0 * elements, m=tokens, n=query)


TWO_LOOPS = {**ROWS, "kernels": {"rope": {**ROWS["kernels"]["rope"], "two_loops": True}}}


@pytest.mark.parametrize("tokens, query, key, seconds", [
    # MHA, 4 heads of 128 each way (llama2-7b at TP8): a block of 256 query pairs, one iteration
    # over the query heads, one over the key heads, after the position: 3 round trips (one loop: 2)
    (1, 512, 512, 3e-6),
    # GQA, 32 query and 8 KV heads of 128 (llama3-8b): 2048 query pairs over 512 threads = 4
    # iterations, then 512 key pairs = 1: 6 round trips, as one loop over 2560 pairs (5 + 1)
    (1, 4096, 1024, 6e-6),
    # GQA, 4 query heads and 1 KV head (llama3-8b at TP8): 256 threads, 1 + 1 iterations (one loop:
    # 320 threads, one iteration)
    (1, 512, 128, 3e-6),
    # blocks of 256 threads: 8 per SM, 32 rows in a wave, a 33rd in a second
    (32, 512, 128, 3e-6), (33, 512, 128, 6e-6),
])
def test_rope_sizes_its_block_by_the_query_heads_and_walks_them_then_the_key_heads(tokens, query, key, seconds):
    simulated, _ = _seconds(_gpu(rows=TWO_LOOPS), _rope(tokens, query, key))
    assert simulated == pytest.approx(seconds, rel=1e-9)


@pytest.mark.parametrize("query, key, seconds", [(512, 512, 2e-6), (512, 128, 2e-6), (4096, 1024, 6e-6)])
def test_one_loop_rope_or_no_query_columns_walks_the_row_whole(query, key, seconds):
    # without two_loops, a row of (query + key) / 2 pairs over min(pairs, 512) threads; the same with
    # two_loops for an op without n (a trace file's rope without its query columns)
    one_loop, _ = _seconds(_gpu(rows=ROWS), _rope(1, query, key))
    unsplit, _ = _seconds(_gpu(rows=TWO_LOOPS), replace(_rope(1, query, key), n=0))
    assert one_loop == unsplit == pytest.approx(seconds, rel=1e-9)


def test_many_rows_are_bound_by_bandwidth_and_other_kinds_keep_it():
    op = _rows_op("norm", 1 << 12, 4096)          # 64 MB at 1 TB/s: 64 us > 512 waves x 8 x 1 ns
    simulated, _ = _seconds(_gpu(rows={**ROWS, "latency": "1ns"}), op)
    assert simulated == pytest.approx(op.total_bytes / BW, rel=1e-9)
    add = _rows_op("elementwise", 1, 4096)
    simulated, _ = _seconds(_gpu(rows=ROWS), add)
    assert simulated == pytest.approx(add.total_bytes / BW, rel=1e-9)


@pytest.mark.parametrize("rows, warps", [(1, 32), (5, 64), (8, 64)])
def test_each_iteration_waits_its_round_trip_then_the_resident_warps_instructions(rows, warps):
    # 4096 wide: 4 iterations per pass over 1024 threads; the busiest SM holds ceil(rows / 4 SMs) blocks of
    # 32 warps, each instruction of theirs 1 / (4 schedulers x 1 GHz) per warp; pass 1 waits on DRAM (1 us),
    # pass 2 (cached) on an L2 hit (250 ns); 9 and 19 instructions per iteration
    kernel = {"block": 1024, "passes": 2, "cached_passes": 1, "instructions": [9, 19]}
    issued = {**ROWS, "l2_latency": "250ns", "clock": "1GHz", "kernels": {"norm": kernel}}
    simulated, _ = _seconds(_gpu(rows=issued), _rows_op("norm", rows, 4096))
    assert simulated == pytest.approx(4 * (1e-6 + 250e-9 + warps * (9 + 19) / 4e9), rel=1e-6)   # whole ps


@pytest.mark.parametrize("kernel, extra, message", [
    ({"passes": 2, "cached_passes": 2}, {"l2_latency": "1ns"}, "must leave the first"),
    ({"passes": 2, "instructions": [9]}, {"clock": "1GHz"}, "one count per pass"),
    ({"instructions": [9]}, {}, "needs clock"),
    ({"passes": 2, "cached_passes": 1}, {}, "needs l2_latency"),
])
def test_per_pass_figures_that_do_not_fit_are_one_error_line(kernel, extra, message):
    from hwsim.config.errors import ConfigError
    from hwsim.machine import machine_from_dict
    rows = {**ROWS, **extra, "kernels": {"norm": {"block": 1024, **kernel}}}
    with pytest.raises(ConfigError) as info:
        machine_from_dict({"name": "g", "description": "test", "source": "test",
                           "components": {"gpu": _gpu(rows=rows)}, "mapping": {"default": "gpu"}})
    (line,) = str(info.value).splitlines()
    assert message in line


# a curve of 1 KB in flight per SM -> 100 GB/s, 4 KB -> 400 GB/s (4 SMs, fp16 elements of 2 bytes)
CURVE = {**ROWS, "latency": "1ns", "inflight": [["1KB", "100GB/s"], ["4KB", "400GB/s"]]}


@pytest.mark.parametrize("loads, blocks_per_sm, rows, per_sm", [
    # norm: 1024 threads per row, 2 resident rows per SM, one 2-byte load each: 4 KB per SM; 16 rows, 2 waves
    (1, None, 16, 4096),
    # one row per SM: 1024 threads x 2 B per SM = 2 KB, between the points: 200 GB/s; 8 rows, 2 waves
    (1, 1, 8, 2048),
    # two loads per thread (silu_and_mul's x and y) double the bytes in flight
    (2, 1, 8, 4096),
])
def test_rows_in_waves_stream_at_the_bandwidth_their_loads_in_flight_sustain(loads, blocks_per_sm, rows, per_sm):
    kernel = {"block": 1024, "passes": 2, "loads": loads, "blocks_per_sm": blocks_per_sm}
    curve = {**CURVE, "kernels": {"norm": {key: value for key, value in kernel.items() if value}}}
    op = _rows_op("norm", rows, 4096)
    simulated, _ = _seconds(_gpu(rows=curve), op)
    assert simulated == pytest.approx(op.total_bytes / (100e9 * per_sm / 1024), rel=1e-9)


def test_rows_in_one_wave_wait_on_their_own_round_trips_not_on_the_curve():
    # 8 rows fill the 4 SMs' 2 blocks each once: no block retires and relaunches as in the curve's
    # one-load threads, so 8 round trips of 25 ns bind (200 ns), not 131 KB at 400 GB/s (328 ns);
    # 16 rows are two waves: 400 ns of round trips, 262 KB at the curve's 400 GB/s (655 ns)
    curve = {**CURVE, "latency": "25ns"}
    one_wave, _ = _seconds(_gpu(rows=curve), _rows_op("norm", 8, 4096))
    assert one_wave == pytest.approx(8 * 25e-9, rel=1e-4)          # the engine counts whole picoseconds
    two = _rows_op("norm", 16, 4096)
    waves, _ = _seconds(_gpu(rows=curve), two)
    assert waves == pytest.approx(two.total_bytes / 400e9, rel=1e-9)


def test_a_short_last_iteration_keeps_fewer_loads_in_flight():
    # a row of 3072 over a block of 2048 threads (one per SM): 2 iterations, 1536 threads busy on average,
    # so 4 resident rows keep 4 x 1536 x 2 B / 4 SMs = 3 KB per SM in flight: 300 GB/s (4 KB, 400, if all
    # 2048 threads loaded in both); 8 rows are two waves
    curve = {**CURVE, "kernels": {"norm": {"block": 2048}}}
    op = _rows_op("norm", 8, 3072)
    simulated, _ = _seconds(_gpu(rows=curve), op)
    assert simulated == pytest.approx(op.total_bytes / 300e9, rel=1e-9)


def test_the_curve_is_flat_below_its_points_and_streams_past_them():
    from hwsim.components.analytic.row_kernels import Rows
    rows = Rows.model_validate(CURVE)
    assert rows.bandwidth(10, SUSTAINED) == 100e9 and rows.bandwidth(4096, SUSTAINED) == 400e9
    assert rows.bandwidth(2560, SUSTAINED) == pytest.approx(250e9, rel=1e-12)
    assert rows.bandwidth(1 << 20, SUSTAINED) == SUSTAINED       # past the last point: the memory's rate


def test_a_grid_stride_kernel_spreads_all_elements_over_its_capped_grid():
    # 4096 x 64 outputs, blocks of 128 threads, at most 2 blocks per SM: 8 blocks of 128 = 1024 threads
    # in flight (2 KB: 512 B per SM, below the curve: 100 GB/s); 256 iterations of 1 ns each
    curve = {**CURVE, "kernels": {"embedding": {"block": 128, "blocks_per_sm": 2, "grid_stride": True}}}
    op = Op(0, "emb", "embedding", 0, 0, "fp16", weight_bytes=2.0 * 4096 * 64, act_out_bytes=2.0 * 4096 * 64,
            m=64, n=4096)
    simulated, _ = _seconds(_gpu(rows=curve), op)
    assert simulated == pytest.approx(op.total_bytes / 100e9, rel=1e-9)
    chained, _ = _seconds(_gpu(rows={**curve, "latency": "1us", "inflight": []}), op)
    assert chained == pytest.approx(4096 * 64 / 1024 * 1e-6, rel=1e-9)


def test_a_chunked_kernel_cuts_the_flat_tensor_into_blocks_that_run_in_waves():
    # PyTorch's fp16 add: blocks of 128 threads x 4 elements = 512, 16 blocks per SM x 4 SMs = 64 at once.
    # 4096 outputs (no rows): 8 blocks, one wave, one 1 us round trip. 2^20 outputs: 2048 blocks in 32
    # waves; 64 x 128 threads x 1 load x 2 B / 4 SMs = 4 KB per SM in flight: the curve's 400 GB/s; with
    # 8 loads (two 4-element vectors), 32 KB, past the curve: the memory's streaming rate
    kernel = {"block": 128, "elements_per_thread": 4, "loads": 8, "chunk": 512}
    rows = {**CURVE, "latency": "1us", "kernels": {"elementwise": kernel}}

    def add(n):
        return Op(0, "add", "elementwise", 0, n, "fp16", act_in_bytes=4.0 * n, act_out_bytes=2.0 * n)
    one_wave, _ = _seconds(_gpu(rows=rows), add(4096))
    assert one_wave == pytest.approx(1e-6, rel=1e-9)
    big = add(1 << 20)
    one_load = {**rows, "latency": "1ns", "kernels": {"elementwise": {**kernel, "loads": 1}}}
    waves, _ = _seconds(_gpu(rows=one_load), big)
    assert waves == pytest.approx(big.total_bytes / 400e9, rel=1e-9)
    vectors, _ = _seconds(_gpu(rows={**rows, "latency": "1ns"}, memory={"efficiency": 0.8}), big)
    assert vectors == pytest.approx(big.total_bytes / SUSTAINED, rel=1e-9)


def test_kernel_startup_is_paid_once_per_kernel_with_the_host_launch():
    op = Op(0, "add", "elementwise", 0, 1e6, "fp16", act_in_bytes=2e6, act_out_bytes=1e6)
    plain, _ = _seconds(_gpu(), op)
    started, _ = _seconds(_gpu(kernel_startup="1.3us"), op)
    assert started == pytest.approx(plain + 1.3e-6, rel=1e-9)
    eager, _ = _seconds(_gpu(kernel_startup="1.3us", launch_overhead="5us",
                             kernels_per_op={"elementwise": 3}), op)
    assert eager == pytest.approx(plain + 3 * (1.3e-6 + 5e-6), rel=1e-9)


def test_few_rows_of_a_strided_kernel_are_walked_one_after_another():
    # 4 rows of 4096 (<= serial_rows): a grid of min(4096 / 128, 4 SMs x 2) = 8 blocks of 128 threads
    # copies one row at a time: per row an index load (1 us) then 4096 / 1024 = 4 loop trips of 1 us
    kernel = {"block": 128, "blocks_per_sm": 2, "grid_stride": True, "serial_rows": 4, "extra_round_trips": 1}
    rows = {**ROWS, "kernels": {"embedding": kernel}}
    op = Op(0, "emb", "embedding", 0, 0, "fp16", weight_bytes=2.0 * 4 * 4096, act_out_bytes=2.0 * 4 * 4096,
            m=4, n=4096)
    simulated, _ = _seconds(_gpu(rows=rows), op)
    assert simulated == pytest.approx(4 * (1e-6 + 4 * 1e-6), rel=1e-9)
    five = Op(0, "emb", "embedding", 0, 0, "fp16", weight_bytes=2.0 * 5 * 4096, act_out_bytes=2.0 * 5 * 4096,
              m=5, n=4096)
    strided, _ = _seconds(_gpu(rows=rows), five)            # past serial_rows: all 5 rows at once
    assert strided == pytest.approx(1e-6 + 20 * 1e-6, rel=1e-9)


def test_split_k_pays_a_second_kernel_for_its_reduction():
    # the split-K case above, with a 1 us kernel startup: the GEMM and the partials' reduction kernel
    k = 1 << 16
    op = _matmul(64, 64, k)
    base, _ = _seconds(_gpu(gemm=GEMM), op)
    started, _ = _seconds(_gpu(gemm=GEMM, kernel_startup="1us"), op)
    assert started == pytest.approx(base + 2e-6, rel=1e-9)
    unsplit, _ = _seconds(_gpu(gemm={**GEMM, "split_k": False}, kernel_startup="1us"), op)
    assert unsplit == pytest.approx(4 * base + 1e-6, rel=1e-9)


def test_an_inflight_curve_that_does_not_rise_is_one_error_line():
    from hwsim.config.errors import ConfigError
    from hwsim.machine import machine_from_dict
    curve = {**CURVE, "inflight": [["4KB", "400GB/s"], ["1KB", "100GB/s"]]}
    with pytest.raises(ConfigError) as info:
        machine_from_dict({"name": "g", "description": "test", "source": "test",
                           "components": {"gpu": _gpu(rows=curve)}, "mapping": {"default": "gpu"}})
    (line,) = str(info.value).splitlines()
    assert "rows.inflight" in line and "must rise" in line
