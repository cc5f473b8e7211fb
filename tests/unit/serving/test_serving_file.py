"""Serving files (`hwsim serve serving.yaml`): strict keys with file:line errors, and a run."""
import json
from pathlib import Path

import pytest

from hwsim.cli import main
from hwsim.config.errors import ConfigError
from hwsim.serving.spec import is_serving_file, load_serving

EXAMPLE = Path(__file__).resolve().parents[3] / "workloads" / "requests" / "a100_chat.yaml"
SMALL = """machine: nvidia_a100_80gb
model: llama2-7b
requests: {count: 3, rate: 2, arrival: constant, prompt: fixed:32, output: fixed:4}
scheduler: {policy: chunked, preemption: swap}
replicas: {count: 2, router: least-tokens}
slo: {ttft: 500ms, tpot: 50ms}
"""


def write(tmp_path, text):
    path = tmp_path / "serving.yaml"
    path.write_text(text)
    return path


def test_the_shipped_example_is_a_valid_serving_file():
    serving = load_serving(EXAMPLE)
    assert is_serving_file(EXAMPLE) and serving.spec.replicas.router == "least-tokens"
    assert not is_serving_file(EXAMPLE.parents[2] / "architectures" / "nvidia_a100_80gb.yaml")


@pytest.mark.parametrize("line, text, message", [
    (4, "scheduler: {polcy: chunked}", "scheduler.polcy: unknown key 'polcy' (did you mean 'policy'?)"),
    (5, "replicas: {count: 2, router: least-token}", "(did you mean 'least-tokens'?)"),
    (6, "slo: {ttft: 1}", "slo.ttft: needs a unit"),
    (4, "disaggregation: {decode_machine: nvidia_h100_sxm, kv_link: roce400}", "unknown link preset 'roce400'"),
    (3, "requests: {prompt: normal:100}", "requests.prompt: lengths 'normal:100'"),
    (4, "arrivals: poisson", "unknown key 'arrivals'"),
    (3, "requests: {rate: 0}", "requests.rate: must be > 0.0, got 0"),          # a float field: no 'integer'
    (3, "requests: {count: 0}", "requests.count: must be a positive integer, got 0"),
])
def test_a_bad_key_or_value_names_the_file_and_line(tmp_path, line, text, message):
    lines = SMALL.splitlines()
    lines[line - 1] = text
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as error:
        load_serving(path)
    assert f"serving.yaml:{line}: " in str(error.value)
    assert message in str(error.value) and len(str(error.value).splitlines()) == 1


def test_the_command_serves_a_serving_file(tmp_path, capsys):
    path = write(tmp_path, SMALL)
    assert main(["serve", str(path), "--no-progress", "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["completed"] == 3 and summary["scheduler"] == "chunked"
    assert summary["slo"]["ttft_s"] == 0.5 and summary["slo"]["tpot_s"] == 0.05
    assert "3/3 requests served" in capsys.readouterr().out


def test_options_beside_a_serving_file_are_an_error(tmp_path, capsys):
    path = write(tmp_path, SMALL)
    assert main(["serve", str(path), "--rate", "9", "--no-progress"]) == 2
    assert "is a serving file; give --rate in it" in capsys.readouterr().err
