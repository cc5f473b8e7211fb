"""`type: npu`: exact operator times on a small NPU, bounds, config errors, end-to-end runs."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hwsim.components.base import run_alone
from hwsim.components.npu.npu import Npu
from hwsim.components.npu.systolic import SystolicArray
from hwsim.config.errors import ConfigError
from hwsim.engine import Simulator
from hwsim.step import run_trace, simulate
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision
from hwsim.workload.tracefile import Trace
from npu_machines import npu_machine, npu_params

BF16 = Precision("bf16", "bf16", "bf16")


def matmul(m, n, k, count=1, dtype="int8", e=1.0, op_id=0):
    return Op(id=op_id, name="mm", kind="matmul", layer=0, flops=2.0 * m * n * k * count, compute_dtype=dtype,
              weight_bytes=e * count * k * n, act_in_bytes=e * count * m * k, act_out_bytes=e * count * m * n,
              m=m, n=n, k=k, count=count)


def npu(**overrides) -> Npu:
    return npu_machine(**overrides).build(Simulator())["npu"]


def test_one_block_gemm_is_load_then_compute():
    # one 32x32 tile, the whole GEMM is one block (chunk larger than it): latency + load + compute
    n = npu(tiles=1, array={"rows": 32, "cols": 32, "macs_per_pe_cycle": {"int8": 1}}, dataflow="ws",
            memory={"bandwidth": "1GB/s", "latency": "100ns", "chunk": "1MB"},
            scratchpad={"size": "1MB", "banks": 1024, "bank_width": "64B"})
    op = matmul(32, 32, 32)
    t = n.time(op)
    compute_s = SystolicArray(32, 32, "ws").compute_cycles(32, 32, 32) * 1e-9
    assert t.compute_s == pytest.approx(compute_s)
    assert t.duration_s == pytest.approx(100e-9 + op.total_bytes / 1e9 + compute_s)
    assert t.memory_bytes == op.total_bytes and t.bound == "memory"


def test_int8_packs_the_reduction():
    n = npu(tiles=1, dataflow="os")
    assert n.time(matmul(64, 64, 64, dtype="int8")).compute_s == \
        SystolicArray(8, 8, "os", 2).compute_cycles(64, 64, 64) * 1e-9
    assert n.peak_flops("int8") == 2 * n.peak_flops("bf16") == 2 * 8 * 8 * 2 * 2 * 1e9 / 2


def test_decode_gemv_is_memory_bound_prefill_gemm_compute_bound():
    n = npu(memory={"bandwidth": "16GB/s", "latency": "0s", "chunk": "4KB"})   # arrays: 1/8 used by a GEMV
    gemv = n.time(matmul(1, 4096, 4096, dtype="bf16", e=2.0))
    assert gemv.bound == "memory"
    assert gemv.duration_s == pytest.approx(gemv.memory_s, rel=0.01)   # stream hides compute
    gemm = n.time(matmul(512, 512, 512, dtype="bf16", e=2.0))
    assert gemm.bound == "compute" and gemm.duration_s >= gemm.compute_s


def test_vector_op_time():
    n = npu(memory={"bandwidth": "1000TB/s", "latency": "0s", "chunk": "1MB"})
    op = Op(id=0, name="softmax", kind="softmax", layer=0, flops=5e6, compute_dtype="bf16",
            act_in_bytes=2e6, act_out_bytes=2e6)
    t = n.time(op)
    assert t.vector_s == pytest.approx((5e6 / 64 + 20) * 1e-9)
    assert t.bound == "vector" and t.duration_s >= t.vector_s


def test_ops_run_one_at_a_time_and_report_their_bound():
    ops = [matmul(256, 256, 256, op_id=i) for i in range(2)]
    runs, n = run_alone("npu", npu_params(), ops)
    assert runs[1].start_ps == runs[0].end_ps
    assert runs[0].end_ps - runs[0].start_ps == pytest.approx(n.time(ops[0]).duration_s * 1e12, abs=1)
    assert runs[0].bound.startswith("npu.")


def test_missing_format_and_bad_config_are_clear_errors():
    with pytest.raises(ValueError, match="no arrays for fp8 operators; add array.macs_per_pe_cycle.fp8"):
        npu().time(matmul(8, 8, 8, dtype="fp8"))
    with pytest.raises(ConfigError, match="tiles"):
        npu_machine(tiles=0)
    with pytest.raises(ConfigError, match="dataflow"):
        npu_machine(dataflow="rs")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=st.integers(1, 3000), n=st.integers(1, 3000), k=st.integers(1, 3000), count=st.integers(1, 40),
       dtype=st.sampled_from(["bf16", "int8"]), mapper=st.sampled_from(["heuristic", "search"]),
       double_buffer=st.booleans())
def test_random_gemms_never_beat_their_roofline_floor(m, n, k, count, dtype, mapper, double_buffer):
    machine = npu_machine(mapper=mapper, scratchpad={"size": "256KB", "banks": 8, "bank_width": "16B",
                                                     "double_buffer": double_buffer})
    op = matmul(m, n, k, count, dtype, e=2.0 if dtype == "bf16" else 1.0)
    trace = Trace(ops=(op,), model="random", phase="prefill", batch=1, context=m, precision=BF16)
    report = run_trace(machine, trace)          # raises RooflineViolation below any floor
    assert report.latency_s >= op.total_bytes / 64e9


def test_llama_decode_on_the_small_npu_is_memory_bound():
    report = simulate(npu_machine(), "llama2-7b", phase="decode", batch=1, context=128, precision=BF16)
    assert report.bound == "npu.memory"
    assert set(report.time_by("bound")) <= {"npu.memory", "npu.compute", "npu.vector", "npu.scratchpad"}
