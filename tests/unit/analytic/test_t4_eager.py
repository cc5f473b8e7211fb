"""nvidia_t4_eager: eager PyTorch's cost per kernel launch, and HF GPT-2's kernels per operator.

The machine file derives 45 us per kernel from NVIDIA's FasterTransformer v3.1 T4 PyTorch table;
these tests replay that arithmetic and check the device charges it once per kernel, exactly.
"""
import copy

import pytest

from hwsim.machine import load_machine, machine_from_dict
from hwsim.step import simulate
from hwsim.workload.precision import Precision

FP16 = Precision("fp16", "fp16", "fp16")

# FasterTransformer v3.1 decoder_guide.md, T4 + PyTorch, FP16, <batch 1, seq 128, beam 1>
PYTORCH_MS, FT_DECODER_MS, STEPS, LAYERS = 2029.57, 612.47, 128, 6
ONMT_LAYER_KERNELS, FT_LAYER_LAUNCHES = 44, 3


def _gpu(machine="nvidia_t4_eager"):
    return load_machine(machine).spec.model_dump(mode="json")["components"]["gpu"]


def test_launch_overhead_replays_the_fastertransformer_t4_table():
    per_layer_step_s = (PYTORCH_MS - FT_DECODER_MS) * 1e-3 / (STEPS * LAYERS)     # 1.8452 ms
    per_kernel_s = per_layer_step_s / (ONMT_LAYER_KERNELS - FT_LAYER_LAUNCHES)   # 45.0 us
    assert per_kernel_s == pytest.approx(45.0e-6, rel=1e-3)
    assert _gpu()["launch_overhead"] == "45us"


def test_hf_gpt2_layer_is_27_kernels():
    # ln_1, c_attn, 2 cache cats, 6 score kernels, softmax, PV + merge copy, c_proj, residual,
    # ln_2, c_fc, 8 gelu_new kernels, c_proj, residual
    per_kind = _gpu()["kernels_per_op"]
    layer = {"norm": 2, "matmul": 4, "kv_write": 1, "attn_score": 1, "softmax": 1, "attn_context": 1,
             "elementwise": 2, "activation": 1}
    assert sum(per_kind[kind] * count for kind, count in layer.items()) == 27


def test_every_kernel_pays_the_launch_overhead_once():
    # gpt2-small decode: embedding (3) + 12 layers x 27 + final LayerNorm (1) + lm_head (1) = 329 kernels,
    # all on one serial device, so eager = roofline + 329 x 45 us exactly.
    eager = simulate("nvidia_t4_eager", "gpt2-small", phase="decode", batch=1, context=64, precision=FP16)
    roofline = simulate("nvidia_t4", "gpt2-small", phase="decode", batch=1, context=64, precision=FP16)
    assert eager.latency_s - roofline.latency_s == pytest.approx(329 * 45e-6, rel=1e-9)


def test_kinds_not_listed_launch_one_kernel():
    data = copy.deepcopy(load_machine("nvidia_t4_eager").spec.model_dump(mode="json"))
    data["components"]["gpu"]["kernels_per_op"] = {}
    report = simulate(machine_from_dict(data), "gpt2-small", phase="decode", batch=1, context=64, precision=FP16)
    roofline = simulate("nvidia_t4", "gpt2-small", phase="decode", batch=1, context=64, precision=FP16)
    assert report.latency_s - roofline.latency_s == pytest.approx(len(report.ops) * 45e-6, rel=1e-9)


def test_unknown_operator_kind_is_rejected():
    data = copy.deepcopy(load_machine("nvidia_t4_eager").spec.model_dump(mode="json"))
    data["components"]["gpu"]["kernels_per_op"] = {"gelu": 8}
    with pytest.raises(Exception, match="unknown operator kind.*gelu.*known: "):
        simulate(machine_from_dict(data), "gpt2-small", phase="decode", batch=1, context=64, precision=FP16)
