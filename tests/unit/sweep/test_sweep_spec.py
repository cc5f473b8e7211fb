"""Sweep files are validated as strictly as machine files: file, line, key path, did-you-mean."""
import pytest

from hwsim.config.errors import ConfigError
from hwsim.sweep.points import expand
from hwsim.sweep.spec import load_sweep

BASE = """\
name: t
machine: nvidia_t4
workloads:
  - {model: gpt2-small, phase: decode, context: 128}
"""


def error_of(tmp_path, text) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        expand(load_sweep(path))
    return str(info.value)


def test_unknown_top_level_key_names_line_and_suggests(tmp_path):
    assert "s.yaml:5: constraint: unknown key 'constraint' (did you mean 'constraints'?)" in error_of(
        tmp_path, BASE + "constraint: ['1 < 2']\n")


def test_axis_needs_exactly_one_generator_and_a_known_root(tmp_path):
    text = BASE + "axes:\n  b: {path: workload.batch, values: [1], range: {start: 1, stop: 2, step: 1}}\n" \
                  "  c: {path: workloads.context, values: [1]}\n"
    message = error_of(tmp_path, text)
    assert "s.yaml:6: axes.b: give exactly one of values, range, logrange, uniform, loguniform, choice" in message
    assert "s.yaml:7: axes.c: path must start with one of machine., model., workload., serving., got " \
           "'workloads.context' (did you mean 'workload'?)" in message


def test_constraint_metric_and_objective_names_are_checked(tmp_path):
    text = BASE + ("axes:\n  batch: {path: workload.batch, values: [1, 2]}\n"
                   "constraints: ['bach < 3']\nmetrics: [tokens_per_sec]\nobjectives: {bound: max}\n")
    message = error_of(tmp_path, text)
    assert "s.yaml:7: constraints[0]: unknown parameter 'bach' (did you mean 'batch'?)" in message
    assert "s.yaml:8: metrics[0]: unknown metric 'tokens_per_sec' (did you mean 'tokens_per_s'?)" in message
    assert "s.yaml:9: objectives.bound: not a numeric metric" in message


def test_random_axes_need_a_random_block(tmp_path):
    text = BASE + "axes:\n  bw: {path: machine.components.gpu.memory.bandwidth, uniform: [1, 2], unit: TB/s}\n"
    assert "s.yaml:5: axes: random axes (uniform, loguniform, choice) need" in error_of(tmp_path, text)


def test_an_axis_value_that_breaks_the_machine_points_at_the_axis(tmp_path):
    text = BASE + "axes:\n  bw: {path: machine.components.gpu.memory.bandwith, values: [1], unit: TB/s}\n"
    message = error_of(tmp_path, text)
    assert "s.yaml:6: axes.bw: value 1 at machine.components.gpu.memory.bandwith: " in message
    assert "unknown key 'bandwith' (did you mean 'bandwidth'?)" in message


def test_an_axis_value_without_its_unit_is_caught(tmp_path):
    text = BASE + "axes:\n  bw: {path: machine.components.gpu.memory.bandwidth, values: [300]}\n"
    assert "needs a unit" in error_of(tmp_path, text)


def test_a_workload_value_out_of_range_is_caught(tmp_path):
    text = BASE + "axes:\n  batch: {path: workload.batch, values: [0]}\n"
    assert "s.yaml:6: axes.batch: value 0 at workload.batch: batch: must be a positive integer" in error_of(
        tmp_path, text)


def test_zipped_axes_need_equal_lengths(tmp_path):
    text = BASE + ("axes:\n  batch: {path: workload.batch, values: [1, 2], zip: z}\n"
                   "  context: {path: workload.context, values: [64], zip: z}\n")
    assert "s.yaml:6: axes.batch.zip: zipped axes need equally many values (batch: 2, context: 1)" in error_of(
        tmp_path, text)


def test_shipped_sweeps_are_valid():
    from pathlib import Path
    files = [p for p in sorted((Path(__file__).resolve().parents[3] / "sweeps").glob("*.yaml"))
             if not p.stem.endswith("_search")]      # search files: tests/unit/search
    assert len(files) >= 3
    for path in files:
        points, _ = expand(load_sweep(path))
        assert points, path


def test_every_workload_is_checked(tmp_path):
    text = BASE + "  - {model: gpt2-smal, phase: decode}\n"
    assert "s.yaml:5: workloads[1]: no model preset 'gpt2-smal' (did you mean 'gpt2-small'?)" in error_of(
        tmp_path, text)


def test_unknown_base_machine_suggests_a_shipped_one(tmp_path):
    assert "s.yaml:2: machine: no machine file or shipped machine 'nvidia_t5' (did you mean 'nvidia_t4'?)" in \
        error_of(tmp_path, BASE.replace("nvidia_t4", "nvidia_t5"))
