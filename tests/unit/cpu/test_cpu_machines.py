"""Xeon Gold 6154 and Neoverse N1 machines: peaks equal the cited figures; Llama-2-7B within the roofline."""
import pytest

from hwsim.components.npu.dma import _measured
from hwsim.engine import Simulator
from hwsim.machine import load_machine
from hwsim.step import simulate
from hwsim.workload.precision import Precision


def cpu_of(name):
    return load_machine(name).build(Simulator())["cpu"]


def test_xeon_gold_6154_peaks_equal_ark():
    cpu = cpu_of("xeon_gold_6154")
    assert cpu.peak_flops("fp32") == pytest.approx(18 * 2 * 16 * 2 * 3.0e9)     # 3.456 TFLOPS
    assert cpu.peak_flops("int8") == pytest.approx(4 / 3 * cpu.peak_flops("fp32"))   # Intel: 1.33x without VNNI
    assert cpu.bandwidth == 128e9                                              # ARK max memory bandwidth
    assert 6 * 2666e6 * 8 == pytest.approx(cpu.bandwidth, rel=1e-3)           # 6 x DDR4-2666 x 64 bit
    assert cpu.cache_bytes == 24.75 * 2**20 + 18 * 2**20


def test_neoverse_n1_peaks_equal_graviton2():
    cpu = cpu_of("neoverse_n1")
    assert cpu.peak_flops("fp32") == pytest.approx(64 * 2 * 4 * 2 * 2.5e9)      # 2.56 TFLOPS
    assert cpu.peak_flops("int8") == pytest.approx(4 * cpu.peak_flops("fp32"))    # SDOT: 16 int8 MACs per pipe
    per_channel, _ = _measured("DDR4_3200AA")
    assert cpu.bandwidth == 8 * per_channel
    assert 0.9 * 8 * 25.6e9 < cpu.bandwidth <= 8 * 25.6e9                      # 8 x DDR4-3200 x 64 bit peak


@pytest.mark.parametrize("machine", ["xeon_gold_6154", "neoverse_n1"])
def test_llama2_7b_decode_is_dram_bound_within_the_roofline(machine):
    report = simulate(machine, "llama2-7b", phase="decode", batch=1, context=1024,
                      precision=Precision("fp16", "fp16", "fp16"))
    memory = next(r for r in report.resources if r.name == "cpu.memory")
    assert memory.floor_s == max(r.floor_s for r in report.resources)
    assert memory.floor_s <= report.latency_s <= 1.01 * memory.floor_s
    assert memory.used >= 6.7e9 * 2                                            # every weight read once


@pytest.mark.parametrize("machine", ["xeon_gold_6154", "neoverse_n1"])
def test_llama2_7b_prefill_is_compute_bound_within_the_roofline(machine):
    report = simulate(machine, "llama2-7b", phase="prefill", batch=1, context=256,
                      precision=Precision("fp16", "fp16", "fp16"))
    compute = next(r for r in report.resources if r.name == "cpu.compute")
    assert compute.floor_s == max(r.floor_s for r in report.resources)
    assert compute.floor_s <= report.latency_s <= 1.05 * compute.floor_s
