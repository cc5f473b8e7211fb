"""Broken machine files give exact 'file:line: key.path: message' errors with did-you-mean."""
import os
from pathlib import Path

import pytest

from hwsim.config.errors import ConfigError
from hwsim.machine import load_machine

BROKEN = Path(__file__).parent / "broken"


def errors_of(name: str) -> list[str]:
    cwd = os.getcwd()
    os.chdir(BROKEN)  # messages name files relative to the working directory
    try:
        with pytest.raises(ConfigError) as info:
            load_machine(Path(name))
    finally:
        os.chdir(cwd)
    return str(info.value).splitlines()


def test_unknown_key_names_line_and_suggests():
    assert errors_of("unknown_key.yaml") == [
        "unknown_key.yaml:5: components.gpu.memory: missing required key",
        "unknown_key.yaml:9: components.gpu.memroy: unknown key 'memroy' (did you mean 'memory'?)",
    ]


def test_every_problem_is_reported_at_its_line():
    assert errors_of("bad_values.yaml") == [
        "bad_values.yaml:8: components.gpu.peak: unknown number format 'bf61' (did you mean 'bf16'?); "
        "known: fp32, tf32, fp16, bf16, fp8, int8, int4, fp4, int3, int2, ternary, int1",
        "bad_values.yaml:11: components.gpu.memory.bandwidth: needs a unit: write a bandwidth like "
        "'900GB/s', got 100",
        "bad_values.yaml:12: mapping.gemm: no component named 'gpuu' (did you mean 'gpu'?)",
    ]


def test_unknown_component_type():
    (message,) = errors_of("unknown_type.yaml")
    assert message.startswith("unknown_type.yaml:6: components.gpu.type: unknown component type "
                              "'analytic_devise' (did you mean 'analytic_device'?); known: ")
    assert "analytic_device" in message.split("known: ")[1].split(", ")


def test_invalid_yaml_names_the_line():
    (message,) = errors_of("not_yaml.yaml")
    assert message.startswith("not_yaml.yaml:3: (top level): not valid YAML")


def test_duplicate_keys_are_errors():
    assert errors_of("duplicate.yaml") == ["duplicate.yaml:2: name: duplicate key"]


def test_error_in_inherited_preset_points_at_the_preset_line():
    assert errors_of("child.yaml") == [
        "base_of_child.yaml:10: components.gpu.power: must be a power like '400W', got 'fast'",
    ]


def test_missing_file():
    with pytest.raises(ConfigError, match="no such file"):
        load_machine(BROKEN / "absent.yaml")


def test_unknown_shipped_name_suggests():
    with pytest.raises(FileNotFoundError, match="did you mean 'nvidia_a100_80gb'"):
        load_machine("nvidia_a100_80g")


def test_zero_nan_and_infinite_numbers_are_errors_at_their_line():
    assert errors_of("bad_numbers.yaml") == [
        "bad_numbers.yaml:8: components.gpu.peak.bf16: needs a unit: write a compute like '312TFLOPS', got nan",
        "bad_numbers.yaml:11: components.gpu.memory.bandwidth: must be > 0, got '0GB/s'",
        "bad_numbers.yaml:13: components.gpu.power: must be 0 or between 1e-12 and 1e+09 W, got '1e999W'",
    ]


def test_a_component_that_rejects_its_parameters_names_the_component():
    assert errors_of("pim_timing_typo.yaml") == [
        "pim_timing_typo.yaml:5: components.pim: GDDR6_AiM: unknown timing 'nCCDABx'; did you mean 'nCCDAB'?",
    ]
