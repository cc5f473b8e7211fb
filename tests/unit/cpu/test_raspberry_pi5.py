"""Raspberry Pi 5 machines: peaks and sustained bandwidth equal their cited figures; decode steps run
within their roofline and stream at the sustained (not the peak) DRAM bandwidth."""
import pytest

from hwsim.components.cpu.memory import sustained_bandwidth
from hwsim.engine import Simulator
from hwsim.machine import load_machine
from hwsim.step import simulate
from hwsim.workload.precision import Precision

PEAK = 4267e6 * 4                     # LPDDR4X-4267 x 32 bit
STREAM = 13.23e9                      # STREAM read-only, best of 1/2/4 threads (llama.cpp issue 26484)
STREAM_ONE_THREAD = 9.26e9            # the same run, 1 thread


def components(name):
    return load_machine(name).build(Simulator())


def test_pi5_cpu_peaks_and_caches():
    cpu = components("raspberry_pi5")["cpu"]
    assert cpu.peak_flops("fp32") == pytest.approx(4 * 2 * 4 * 2 * 2.4e9)          # 76.8 GFLOPS
    assert cpu.peak_flops("int8") == pytest.approx(4 * cpu.peak_flops("fp32"))     # SDOT
    assert cpu.cache_bytes == 2 * 2**20 + 4 * 512 * 2**10


def test_pi5_streams_at_the_stream_figure_not_the_peak():
    cpu = components("raspberry_pi5")["cpu"]
    assert cpu.bandwidth == pytest.approx(STREAM, rel=1e-3)
    assert cpu.bandwidth < 0.8 * PEAK
    # one core: STREAM's 1-thread figure; two cores reach the chip figure
    assert cpu.params.per_core.bandwidth == pytest.approx(STREAM_ONE_THREAD)
    assert sustained_bandwidth(PEAK, cpu.params.memory_efficiency, cpu.params.per_core, 1) == pytest.approx(STREAM_ONE_THREAD)
    assert sustained_bandwidth(PEAK, cpu.params.memory_efficiency, cpu.params.per_core, 2) == pytest.approx(STREAM, rel=1e-3)


def test_tmac_engine_shares_the_cores_memory_limits():
    parts = components("raspberry_pi5_tmac")
    assert parts["tmac"].sustained_bandwidth == pytest.approx(parts["cpu"].bandwidth)


@pytest.mark.parametrize("machine, weights", [("raspberry_pi5", "int2"), ("raspberry_pi5_tmac", "ternary")])
def test_bitnet_3b_decode_streams_below_the_sustained_bandwidth_within_the_roofline(machine, weights):
    report = simulate(machine, "bitnet-b1.58-3b", phase="decode", batch=1, context=64,
                      precision=Precision(weights, "int8", "fp16"))
    floor = max(r.floor_s for r in report.resources)
    assert floor <= report.latency_s
    memory = sum(r.used for r in report.resources if r.name.endswith(".memory"))
    assert memory / report.latency_s <= STREAM * (1 + 1e-9)                       # never above sustained
    assert memory / report.latency_s > 0.75 * STREAM       # mostly streaming (T-MAC lookups do not overlap)
