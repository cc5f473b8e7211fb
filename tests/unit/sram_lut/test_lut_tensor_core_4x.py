"""A100-LUT-4X runs BitNet decode within its roofline; Table 1's LLAMA 3B (FP16) runs on the A100.
The 4X peak closed form is in test_lut_machines.py."""

from hwsim.step import simulate
from hwsim.workload.precision import Precision


def test_a100_4x_bitnet_decode_within_its_roofline_and_slower_than_8x():
    precision = Precision("int2", "int8", "fp16")
    four, eight = (simulate(m, "bitnet-b1.58-3b", phase="decode", batch=1024, context=1, precision=precision)
                   for m in ("lut_tensor_core_a100_4x", "lut_tensor_core_a100"))
    assert max(r.floor_s for r in four.resources) <= four.latency_s
    assert four.latency_s > eight.latency_s


def test_llama_3b_fp16_decode_on_the_a100_is_hbm_bound():
    report = simulate("nvidia_a100_80gb", "llama-3b", phase="decode", batch=1, context=2047,
                      precision=Precision("fp16", "fp16", "fp16"))
    hbm = max(report.resources, key=lambda r: r.floor_s)
    assert hbm.used >= 2 * 3.426e9                                                 # every fp16 weight once
    assert hbm.floor_s <= report.latency_s
