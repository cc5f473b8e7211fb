"""Sustained DRAM bandwidth of CPU cores (cpu/memory.py): Little's law per core, the chip's sustained
fraction, c cores; the same limits in the `cpu` component and in a T-MAC-style `lut_engine`."""
import pytest

from hwsim.components.base import run_alone
from hwsim.components.cpu.memory import CoreMemory, sustained_bandwidth
from hwsim.config.errors import ConfigError
from hwsim.workload.ops import Op

# 10 line misses of 64 B in flight, 80 ns each: 640 B / 80 ns = 8 GB/s per core
CORE = {"line_fills": 10, "latency": "80ns"}
CPU = {"type": "cpu", "source": "test", "cores": 4, "clock": "1GHz",
       "simd": {"pipes": 2, "width": 128, "macs_per_pipe_cycle": {"int8": 16}},
       "caches": {"llc": "128KB"}, "memory": {"bandwidth": "40GB/s", "latency": "0s"},
       "memory_efficiency": 0.5, "per_core": CORE}


def gemv(n=1024, k=1024, bits=8):
    return Op(0, "gemv", "matmul", 0, 2.0 * n * k, "int8", weight_bytes=n * k * bits / 8, act_in_bytes=k,
              act_out_bytes=n, m=1, n=n, k=k)


def test_per_core_limit_is_littles_law():
    assert CoreMemory(**CORE).bandwidth == pytest.approx(10 * 64 / 80e-9)          # 8 GB/s
    assert CoreMemory(line_fills=16, latency="100ns", line="128B").bandwidth == pytest.approx(16 * 128 / 100e-9)


def test_a_measured_single_core_bandwidth_is_the_per_core_limit():
    core = CoreMemory(measured="8GB/s")
    assert core.bandwidth == 8e9
    assert sustained_bandwidth(40e9, 0.5, core, 2) == pytest.approx(16e9)          # 2 x 8 < 20 GB/s chip
    assert sustained_bandwidth(40e9, 0.5, core, 3) == pytest.approx(20e9)


@pytest.mark.parametrize("per_core", [{"line_fills": 10, "latency": "80ns", "measured": "8GB/s"},
                                      {"line_fills": 10}, {}])
def test_per_core_takes_exactly_one_source(per_core):
    with pytest.raises(ConfigError, match="measured"):
        run_alone("cpu", {**CPU, "per_core": per_core}, [gemv()])


def test_c_cores_get_the_smaller_of_c_per_core_limits_and_the_chip():
    core = CoreMemory(**CORE)
    chip = 40e9 * 0.5                                                                # 20 GB/s sustained
    assert sustained_bandwidth(40e9, 0.5, core, 1) == pytest.approx(8e9)
    assert sustained_bandwidth(40e9, 0.5, core, 2) == pytest.approx(16e9)
    assert sustained_bandwidth(40e9, 0.5, core, 3) == pytest.approx(chip)           # 24 > 20
    assert sustained_bandwidth(40e9, 0.5, None, 1) == pytest.approx(chip)           # no per-core figure


@pytest.mark.parametrize("threads, bandwidth", [(1, 8e9), (2, 16e9), (4, 20e9), (None, 20e9)])
def test_cpu_streams_a_gemv_at_the_sustained_bandwidth_of_its_threads(threads, bandwidth):
    op = gemv()
    runs, cpu = run_alone("cpu", {**CPU, "threads": threads}, [op])
    assert cpu.bandwidth == pytest.approx(bandwidth)
    traffic = 1024 * 1024 + 1024 + 1024
    assert runs[0].end_ps == round(traffic / bandwidth * 1e12)
    # compute spreads over the same threads: 2^20 MACs / 16 / (2 pipes x threads) cycles at 1 GHz
    assert cpu.time(op).compute_s == pytest.approx(2**20 / 16 / (2 * (threads or 4)) * 1e-9)


def test_more_threads_than_cores_is_a_clear_error():
    with pytest.raises(ConfigError, match="threads"):
        run_alone("cpu", {**CPU, "threads": 5}, [gemv()])


def test_zero_miss_latency_is_a_clear_error():
    with pytest.raises(ConfigError, match="latency"):
        run_alone("cpu", {**CPU, "per_core": {"line_fills": 10, "latency": "0s"}}, [gemv()])


def test_lut_engine_units_as_cores_share_the_same_limits():
    engine = {"type": "lut_engine", "source": "test", "clock": "1GHz", "units": 2,
              "unit": {"g": 4, "lanes": 16, "acts_per_cycle": 4, "drain": 1},
              "memory_bandwidth": "40GB/s", "memory_efficiency": 0.5, "per_core": CORE}
    _, lut = run_alone("lut", engine, [gemv(bits=2)])
    assert lut.sustained_bandwidth == pytest.approx(sustained_bandwidth(40e9, 0.5, CoreMemory(**CORE), 2))
    assert lut.sustained_bandwidth == pytest.approx(16e9)                            # 2 units x 8 GB/s
    # 2-bit codes: 1024 columns x 256 groups x 4 bits x 2 planes / 8 = 256 KiB, + 1 KiB in + 1 KiB out
    _, load_s, nbytes, _ = lut.lut_time(gemv(bits=2))
    assert nbytes == 262144 + 2048
    assert load_s == pytest.approx(nbytes / 16e9)
