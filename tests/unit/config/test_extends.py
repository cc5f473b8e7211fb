"""`extends:` deep-merges a child over its preset; the child's keys win."""
import pytest

from hwsim.config.loader import deep_merge
from hwsim.machine import load_machine


def test_deep_merge_replaces_leaves_and_merges_mappings():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2}
    assert deep_merge(base, {"a": {"y": [3]}, "c": 4}) == {"a": {"x": 1, "y": [3]}, "b": 2, "c": 4}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 2}


def test_machine_extends_a_shipped_preset(tmp_path):
    child = tmp_path / "a100_fast_hbm.yaml"
    child.write_text("extends: nvidia_a100_80gb\nname: a100-fast\n"
                     "components:\n  gpu:\n    memory: {bandwidth: 4TB/s}\n")
    machine = load_machine(child)
    assert machine.name == "a100-fast"
    gpu = machine.spec.components["gpu"]
    assert gpu["memory"] == {"capacity": "80GB", "bandwidth": "4TB/s", "efficiency": 0.8828}
    assert gpu["peak"]["bf16"] == "312TFLOPS"


def test_faster_memory_in_an_extending_machine_speeds_up_its_kernels(tmp_path):
    """Measured kernel figures are shares of the peaks, so a what-if that raises the peak keeps them."""
    import hwsim

    child = tmp_path / "a100_fast_hbm.yaml"
    child.write_text("extends: nvidia_a100_80gb\nname: a100-fast\n"
                     "components:\n  gpu:\n    memory: {bandwidth: 4078GB/s}\n    peak: {bf16: 624TFLOPS, fp16: 624TFLOPS}\n")
    base = hwsim.simulate("nvidia_a100_80gb", "llama2-7b", phase="prefill", context=512)
    fast = hwsim.simulate(child, "llama2-7b", phase="prefill", context=512)
    for kind in ("matmul", "elementwise"):      # tensor-core GEMMs, residual adds streaming HBM
        assert fast.time_by("kind")[kind] < 0.75 * base.time_by("kind")[kind]


def test_mapping_places_ops_by_name_then_kind_then_class(tmp_path):
    from hwsim.workload.ops import Op

    machine_file = tmp_path / "split.yaml"
    machine_file.write_text(
        "extends: nvidia_a100_80gb\nname: split\ncomponents:\n"
        "  host: {type: analytic_device, source: test, peak: {bf16: 1TFLOPS}, memory: {capacity: 1GB, bandwidth: 10GB/s}}\n"
        "mapping: {default: gpu, vector: host, ops: {lm_head: host, softmax: gpu}}\n")
    machine = load_machine(machine_file)
    op = lambda name, kind: Op(0, name, kind, 0, 1.0, "bf16")  # noqa: E731
    assert machine.placement(op("lm_head", "matmul")) == "host"
    assert machine.placement(op("qkv", "matmul")) == "gpu"
    assert machine.placement(op("softmax", "softmax")) == "gpu"
    assert machine.placement(op("attn_norm", "norm")) == "host"


def test_run_formats_come_from_model_then_machine_then_the_run(tmp_path):
    from hwsim.config.errors import ConfigError
    from hwsim.workload.model import load_model

    machine = load_machine("cambricon_llm_m")            # inherits precision: int8 from cambricon_llm_s
    model = load_model("opt-6.7b")                      # released in fp16
    assert str(machine.precision_for(model)) == "W:int8 A:int8 KV:int8"
    assert str(machine.precision_for(model, kv_cache="fp16")) == "W:int8 A:int8 KV:fp16"
    assert str(load_machine("nvidia_a100_80gb").precision_for(model)) == "W:fp16 A:fp16 KV:fp16"
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: nvidia_a100_80gb\nprecision: {weights: int9}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:2: precision.weights: unknown number format 'int9' "
                                          r"\(did you mean 'int8'\?\)"):
        load_machine(bad)
