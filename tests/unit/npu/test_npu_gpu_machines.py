"""GPU machines built from NPU tiles: datasheet peaks reproduced, cited, and Llama-2-7B bounds."""
import pytest

from hwsim.engine import Simulator
from hwsim.machine import load_machine
from hwsim.step import simulate
from hwsim.workload.precision import Precision

# machine -> (format, datasheet dense peak FLOP/s, memory bandwidth B/s)
DATASHEET = {"nvidia_a100_80gb_tiles": ("bf16", 312e12, 2039e9),
             "nvidia_h100_sxm_tiles": ("bf16", 989.5e12, 3.35e12),
             "nvidia_t4_tiles": ("fp16", 65e12, 320e9)}


@pytest.mark.parametrize("name", DATASHEET)
def test_tiles_reproduce_the_datasheet_peak(name):
    machine = load_machine(name)
    gpu = machine.build(Simulator())["gpu"]
    fmt, peak, bandwidth = DATASHEET[name]
    assert gpu.peak_flops(fmt) == pytest.approx(peak, rel=0.002)
    assert gpu.bandwidth == bandwidth
    params = machine.spec.components["gpu"]
    assert params["source"] and params["assumptions"]


def test_llama2_7b_on_a100_tiles_prefill_compute_bound_decode_memory_bound():
    bf16 = Precision("bf16", "bf16", "bf16")
    prefill = simulate("nvidia_a100_80gb_tiles", "llama2-7b", phase="prefill", context=2048, precision=bf16)
    decode = simulate("nvidia_a100_80gb_tiles", "llama2-7b", phase="decode", context=2048, precision=bf16)
    assert prefill.bound == "gpu.compute" and decode.bound == "gpu.memory"
    qkv = [r for r in prefill.ops if r.name == "qkv"]
    assert {r.bound for r in qkv} == {"gpu.compute"}
    assert {r.bound for r in decode.ops if r.kind == "matmul"} == {"gpu.memory"}
    # tiles lose to fill/drain, blocking and latency, never to physics: at or above the analytic floor
    analytic = simulate("nvidia_a100_80gb", "llama2-7b", phase="decode", context=2048, precision=bf16)
    assert decode.latency_s >= analytic.floor_s
