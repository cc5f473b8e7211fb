"""Xeon Gold 6154 and Neoverse N1 machines: peaks equal the cited figures; Llama-2-7B within the roofline."""
import pytest

from hwsim.engine import Simulator
from hwsim.machine import load_machine, machine_from_dict
from hwsim.step import simulate
from hwsim.workload.precision import Precision


def cpu_of(name):
    return load_machine(name).build(Simulator())["cpu"]


def test_xeon_gold_6154_peaks_equal_ark():
    cpu = cpu_of("xeon_gold_6154")
    assert cpu.peak_flops("fp32") == pytest.approx(18 * 2 * 16 * 2 * 3.0e9)     # 3.456 TFLOPS
    assert cpu.peak_flops("int8") == pytest.approx(4 / 3 * cpu.peak_flops("fp32"))   # Intel: 1.33x without VNNI
    assert 6 * 2666e6 * 8 == pytest.approx(128e9, rel=1e-3)                   # ARK peak: 6 x DDR4-2666 x 64 bit
    assert cpu.bandwidth == pytest.approx(183e9 / 2)     # STREAM 183 GB/s on two sockets (AnandTech 12694)
    assert cpu.cache_bytes == 24.75 * 2**20 + 18 * 2**20


def test_neoverse_n1_peaks_equal_graviton2():
    cpu = cpu_of("neoverse_n1")
    assert cpu.peak_flops("fp32") == pytest.approx(64 * 2 * 4 * 2 * 2.5e9)      # 2.56 TFLOPS
    assert cpu.peak_flops("int8") == pytest.approx(4 * cpu.peak_flops("fp32"))    # SDOT: 16 int8 MACs per pipe
    assert cpu.bandwidth == pytest.approx(169.6e9)       # ASCT all-reads on Graviton2 = 0.828125 x 204.8 GB/s
    assert cpu.latency_s == pytest.approx(95e-9)         # ASCT DRAM pointer chase


@pytest.mark.parametrize("machine, threads, bandwidth", [
    # ASCT on Graviton2: one core 20.9 GB/s, the chip 169.6 GB/s; 8 x 20.9 = 167.2 < 169.6 < 9 x 20.9
    ("neoverse_n1", 1, 20.9e9), ("neoverse_n1", 8, 8 * 20.9e9), ("neoverse_n1", 9, 169.6e9), ("neoverse_n1", 64, 169.6e9),
    # Skylake-SP STREAM: one thread 12 GB/s, a socket 91.5 GB/s; 7 x 12 = 84 < 91.5 < 8 x 12
    ("xeon_gold_6154", 1, 12e9), ("xeon_gold_6154", 7, 84e9), ("xeon_gold_6154", 8, 91.5e9), ("xeon_gold_6154", 18, 91.5e9)])
def test_cores_stream_their_measured_share_up_to_the_chip(machine, threads, bandwidth):
    data = load_machine(machine).spec.model_dump(mode="json")
    data["components"]["cpu"]["threads"] = threads
    assert machine_from_dict(data).build(Simulator())["cpu"].bandwidth == pytest.approx(bandwidth)


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
