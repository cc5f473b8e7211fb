"""`cpu` component: exact op times by hand, SIMD widening, cache blocking traffic."""
import pytest

from hwsim.components.base import run_alone
from hwsim.workload.ops import Op

CPU = {"type": "cpu", "source": "test", "cores": 2, "clock": "1GHz",
       "simd": {"pipes": 2, "width": 128, "macs_per_pipe_cycle": {"fp32": 4, "fp16": 8, "int8": 16}, "unpack_ops": 2},
       "caches": {"l2": "64KB", "llc": "128KB"},
       "memory": {"bandwidth": "10GB/s", "latency": "100ns", "chunk": "4KB"}}


def run(op, **overrides):
    runs, cpu = run_alone("cpu", {**CPU, **overrides}, [op])
    return runs[0], cpu


def gemv(weight_bits, n=1024, k=1024, dtype="int8"):
    return Op(0, "gemv", "matmul", 0, 2.0 * n * k, dtype, weight_bytes=n * k * weight_bits / 8,
              act_in_bytes=k, act_out_bytes=n, m=1, n=n, k=k)


def test_peak_is_cores_pipes_macs_two_clock():
    _, cpu = run(gemv(8))
    assert cpu.peak_flops("int8") == 2 * 2 * 16 * 2 * 1e9
    assert cpu.vector_rate == 2 * 2 * 4 * 1e9


def test_int8_gemv_is_memory_bound_by_hand():
    # 1 MiB weights + 1 KiB in + 1 KiB out at 10 GB/s = 105,062.4 ns, + 100 ns latency;
    # compute 2^20 MACs / 16 / (2 pipes x 2 cores) = 16,384 cycles
    execution, cpu = run(gemv(8))
    assert execution.end_ps == 100_000 + 104_857_600 + 204_800
    assert execution.bound == "cpu.memory"
    assert cpu.time(gemv(8)).compute_s == pytest.approx(16_384e-9)


def test_sub_byte_weights_are_widened_on_the_simd_pipes():
    # int4 -> int8: 2 instructions per 16 weights on top of 1 SDOT per 16 MACs: 3x the MAC cycles
    assert run(gemv(4))[1].time(gemv(4)).compute_s == pytest.approx(3 * 16_384e-9)
    # int8 weights into fp16 compute are widened too (8 fp16 lanes per register)
    op = gemv(8, dtype="fp16")
    assert run(op)[1].time(op).compute_s == pytest.approx((2**20 / 8 + 2**20 / 8 * 2) / 4 * 1e-9)


def test_weight_format_overrides_the_trace_weights():
    execution, _ = run(gemv(1.6), weight_format="int8")
    assert execution.end_ps == 100_000 + 104_857_600 + 204_800


def test_gemm_that_fits_the_caches_reads_each_operand_once():
    op = Op(0, "gemm", "matmul", 0, 2.0 * 64 * 64 * 64, "fp32", weight_bytes=64 * 64 * 4,
            act_in_bytes=64 * 64 * 4, act_out_bytes=64 * 64 * 4, m=64, n=64, k=64)
    assert run(op)[1].time(op).memory_bytes == 3 * 64 * 64 * 4


def test_gemm_larger_than_the_caches_rereads_but_never_below_the_operands():
    m = n = k = 1024
    op = Op(0, "gemm", "matmul", 0, 2.0 * m * n * k, "fp32", weight_bytes=n * k * 4,
            act_in_bytes=m * k * 4, act_out_bytes=m * n * 4, m=m, n=n, k=k)
    timing = run(op)[1].time(op)
    assert timing.memory_bytes > 3 * m * n * 4
    assert timing.bound == "compute"
    assert timing.duration_s == pytest.approx(100e-9 + 2**30 / 4 / 4 * 1e-9)


def test_vector_and_memory_ops():
    softmax = Op(0, "softmax", "softmax", 0, 1e6, "fp32", act_in_bytes=4e5, act_out_bytes=4e5)
    assert run(softmax)[0].end_ps == 100_000 + 80_000_000          # 800 kB at 10 GB/s > 1e6 / 16e9
    kv = Op(0, "kv_write", "kv_write", 0, 0.0, "fp16", act_in_bytes=1e4, kv_write_bytes=1e4)
    assert run(kv)[0].end_ps == 100_000 + 2_000_000


def test_missing_format_is_a_clear_error():
    with pytest.raises(ValueError, match="no bf16 multiply-accumulate"):
        run(gemv(16, dtype="bf16"))
