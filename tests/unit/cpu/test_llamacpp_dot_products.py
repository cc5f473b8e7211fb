"""Per-format unpack counts (llama.cpp's q8_0 / q4_0 / q2_K dot products) on the CPU's SIMD pipes, and
the SAIL-like speedup over the N1 baseline as a function of the N1 core count."""
import copy

import pytest

from hwsim.components.base import run_alone
from hwsim.config.loader import load_document
from hwsim.engine import Simulator
from hwsim.machine import ARCHITECTURES_DIR, load_machine, machine_from_dict
from hwsim.step import simulate
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision

CPU = {"type": "cpu", "source": "test", "cores": 2, "clock": "1GHz",
       "simd": {"pipes": 2, "width": 128, "macs_per_pipe_cycle": {"int8": 16}, "unpack_ops": 2,
                "weight_unpack_ops": {8: 4.5, 4: 5.5}},
       "caches": {"l2": "64KB", "llc": "128KB"},
       "memory": {"bandwidth": "10GB/s", "latency": "100ns", "chunk": "4KB"}}
N = K = 4096


def gemv(weight_bits, n=N, k=K):
    return Op(0, "gemv", "matmul", 0, 2.0 * n * k, "int8", weight_bytes=n * k * weight_bits / 8,
              act_in_bytes=k, act_out_bytes=2 * n, m=1, n=n, k=k)


@pytest.mark.parametrize("bits, per_register", [(8, 1 + 4.5), (4, 1 + 5.5), (2, 1 + 2)])
def test_a_kernel_count_replaces_the_default_widening_per_stored_width(bits, per_register):
    # per 16-weight register: 1 SDOT + the kernel's own count (int8, int4) or the default 2 (int2);
    # 2 pipes x 2 cores at 1 GHz
    _, cpu = run_alone("cpu", CPU, [gemv(bits)])
    assert cpu.time(gemv(bits)).compute_s == pytest.approx(N * K / 16 * per_register / 4 * 1e-9)


def test_weight_unpack_ops_must_map_positive_widths():
    with pytest.raises(Exception, match="weight_unpack_ops"):
        run_alone("cpu", {**CPU, "simd": {**CPU["simd"], "weight_unpack_ops": {0: 5}}}, [gemv(4)])


def n1(name="neoverse_n1", cores=None):
    """A shipped N1-based machine, optionally with `cores` CPU cores (other figures unchanged)."""
    doc = load_document(ARCHITECTURES_DIR / f"{name}.yaml", search_dirs=[ARCHITECTURES_DIR])
    data = copy.deepcopy(doc.data)
    if cores:
        data["components"]["cpu"]["cores"] = cores
    return machine_from_dict(data, doc.source)


@pytest.mark.parametrize("bits, uops_per_16_weights", [(8, 1 + 4.5), (4, 1 + 5.5), (2, 1 + 6.0625)])
def test_n1_runs_llamacpp_dot_products_at_the_counted_uops(bits, uops_per_16_weights):
    # one N1 core: 2 V pipes at 2.5 GHz; llama.cpp's 2-bit dot product costs more per weight than 4-bit
    cpu = n1(cores=1).build(Simulator())["cpu"]
    assert cpu.time(gemv(bits)).compute_s == pytest.approx(N * K / 16 * uops_per_16_weights / 2 / 2.5e9)


def test_n1_int4_matmuls_turn_dram_bound_between_16_and_64_cores():
    # per core: 2 pipes x 16 weights / 6.5 uops x 2.5 GHz = 12.3 G int4 weights/s = 6.15 GB/s
    cpu = n1().build(Simulator())["cpu"]
    crossover = cpu.bandwidth / (2 * 16 / 6.5 * 2.5e9 * 0.5)
    assert 16 < crossover < 64
    bound = {cores: n1(cores=cores).build(Simulator())["cpu"].time(gemv(4)).bound for cores in (16, 64)}
    assert bound == {16: "compute", 64: "memory"}


def test_sail_speedup_over_n1_falls_with_the_n1_core_count_to_one_when_both_are_dram_bound():
    precision = Precision("int4", "int8", "fp16")
    speedup = {}
    for cores in (1, 4, 16, 64):
        base, lut = (simulate(n1(name, cores), "llama2-7b", phase="decode", batch=1, context=256,
                              precision=precision).latency_s for name in ("neoverse_n1", "sail_n1"))
        speedup[cores] = base / lut
    assert speedup[1] > speedup[4] > speedup[16] > speedup[64]
    assert speedup[4] > 5                      # compute-bound N1 cores: SAIL's kind of gain
    assert speedup[64] == pytest.approx(1.0, abs=0.01)   # both stream the same int4 bytes from DRAM
