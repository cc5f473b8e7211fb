"""Every shipped architecture runs a decode step of a model it was built for, within its roofline.

A machine that cannot run is a defect: this list must name every file in architectures/.
"""
import math

import pytest

from hwsim.machine import shipped_machines
from hwsim.step import simulate
from hwsim.workload.precision import Precision

BF16 = Precision("bf16", "bf16", "bf16")
FP16 = Precision("fp16", "fp16", "fp16")
INT8 = Precision("int8", "int8", "int8")
W2A8 = Precision("int2", "int8", "fp16")
W2F8 = Precision("int2", "fp8", "fp16")

# machine -> (model, precision or None for the model's own, batch)
WORKLOADS = {
    "cambricon_llm_s": ("opt-6.7b", INT8, 1), "cambricon_llm_m": ("opt-6.7b", INT8, 1),
    "cambricon_llm_l": ("opt-6.7b", INT8, 1),
    "cent_aim": ("llama2-13b", BF16, 1), "cent_aim_pp40": ("llama2-13b", BF16, 1),
    "dgx_a100_8gpu_nvlink": ("llama2-70b", FP16, 1), "dgx_a100_tp2_dp4": ("llama2-7b", FP16, 4),
    "cloudmatrix384_slice32": ("deepseek-v2-lite", BF16, 32),
    "cloudmatrix384_decode": ("deepseek-v2-lite", None, 32),
    "cloudmatrix384_ep320": ("deepseek-v3", None, 320),      # 256 experts + 64 copies fill its 320 dies
    "edge_moe_flash": ("olmoe-1b-7b", Precision("int4", "bf16", "bf16"), 1),
    "h100_8gpu_nvlink": ("mixtral-8x7b", BF16, 8), "h100_cluster_2x8": ("deepseek-v2-lite", BF16, 16),
    "h100_host_expert_offload": ("mixtral-8x7b", BF16, 1),
    "gh200": ("llama2-7b", None, 1), "gh200_c2c_offload": ("llama2-7b", None, 1),
    "gh200_eager": ("llama3.2-1b", None, 1), "nvidia_h100_pcie_eager": ("llama3.2-1b", None, 1),
    "instinfer": ("opt-13b", FP16, 4), "instinfer_2csd": ("opt-13b", FP16, 4),
    "instinfer_flexgen_ssd": ("opt-13b", FP16, 4),
    "instinfer_sparf": ("opt-13b", FP16, 4), "llm_in_a_flash": ("opt-6.7b", FP16, 1),
    **{f"llm_in_a_flash_{row}": ("opt-6.7b", FP16, 1) for row in ("naive", "hybrid", "predictor", "windowing")},
    "lut_tensor_core_a100": ("bitnet-b1.58-3b", W2A8, 1), "lut_tensor_core_h100": ("bitnet-b1.58-3b", W2F8, 1),
    "lut_tensor_core_h100_4x": ("bitnet-b1.58-3b", W2F8, 1), "lut_tensor_core_a100_4x": ("bitnet-b1.58-3b", W2A8, 1),
    "raspberry_pi5": ("bitnet-b1.58-3b", W2A8, 1), "raspberry_pi5_tmac": ("bitnet-b1.58-3b", None, 1),
    "neoverse_n1": ("llama2-7b", FP16, 1), "xeon_gold_6154": ("llama2-7b", FP16, 1),
    "sail_n1": ("llama2-7b", W2A8, 1), "sn40l": ("llama2-7b", BF16, 1), "tmac_m2ultra": ("llama2-7b", W2A8, 1),
    "tellme_kv260": ("bitnet-b1.58-0.7b", None, 1), "npu_4x4_mesh": ("llama2-7b", BF16, 1),
    "nvidia_a100_80gb": ("llama2-7b", None, 1), "nvidia_a100_80gb_tiles": ("llama2-7b", None, 1),
    "nvidia_a40": ("llama2-7b", FP16, 1), "nvidia_h100_pcie": ("llama3.2-1b", None, 1),
    "nvidia_h100_sxm": ("llama2-7b", None, 1), "nvidia_h100_sxm_tiles": ("llama2-7b", None, 1),
    "nvidia_t4": ("gpt2-xl", FP16, 1), "nvidia_t4_eager": ("gpt2-xl", FP16, 1),
    "nvidia_t4_tiles": ("gpt2-xl", FP16, 1), "pim_gpt": ("gpt2-xl", BF16, 1),
    "phone_mllm_npu": ("qwen1.5-1.8b", None, 1), "tpi_llm_home": ("llama2-7b", None, 1),
    "phone_powerinfer2": ("turbosparse-mixtral-47b", None, 1),
}


def test_every_shipped_machine_is_listed():
    assert sorted(WORKLOADS) == shipped_machines()


SLOW = {"cloudmatrix384_ep320"}      # 320 devices: most of a minute


@pytest.mark.parametrize("machine", [pytest.param(m, marks=pytest.mark.slow) if m in SLOW else m
                                     for m in sorted(WORKLOADS)])
def test_shipped_machine_runs_a_decode_step(machine):
    model, precision, batch = WORKLOADS[machine]
    report = simulate(machine, model, phase="decode", batch=batch, context=256, precision=precision)
    assert math.isfinite(report.latency_s) and report.latency_s > 0
    assert report.tokens_per_s > 0 and report.latency_s * (1 + 1e-9) >= report.floor_s   # as check_roofline: float sums only
    assert report.bound.split(".")[0] in report.components
