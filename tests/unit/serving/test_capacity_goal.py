"""`capacity_goal:` in serving files: `hwsim serve FILE` runs the capacity search with the file's
target and rate bounds, as capacity_search() does; bad goals are one-line errors at their line."""
import json

import pytest

from hwsim.cli import main
from hwsim.config.errors import ConfigError
from hwsim.serving.capacity_search import capacity_search
from hwsim.serving.spec import load_serving

STREAM = dict(n=16, arrival="constant", prompt="fixed:256", output="fixed:8", scheduler="chunked", slo_ttft=0.05,
              slo_tpot=0.02)
FILE = """machine: nvidia_a100_80gb
model: llama2-7b
requests: {count: 16, rate: 2, arrival: constant, prompt: fixed:256, output: fixed:8}
scheduler: {policy: chunked}
slo: {ttft: 50ms, tpot: 20ms}
capacity_goal: {attainment: 0.9, max_rate: 400}
"""


def write(tmp_path, text):
    path = tmp_path / "serving.yaml"
    path.write_text(text)
    return path


def test_the_command_runs_the_files_capacity_search(tmp_path, capsys):
    direct = capacity_search("nvidia_a100_80gb", "llama2-7b", goal=0.9, start_rate=2, max_rate=400, **STREAM)
    assert 2 < direct.rate < 400 and direct.tried[0] == (2, 1.0)
    assert main(["serve", str(write(tmp_path, FILE)), "--no-progress", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"capacity: {direct.rate:.3f} req/s keep SLO attainment >= 90% ({len(direct.tried)} runs")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["slo"] == direct.report.summary()["slo"]


def test_max_rate_bounds_the_doubling_and_a_passing_bound_is_the_capacity(tmp_path):
    text = FILE.replace("slo: {ttft: 50ms, tpot: 20ms}", "slo: {ttft: 100s, tpot: 10s}").replace(
        "max_rate: 400", "start_rate: 3, max_rate: 20")
    found = load_serving(write(tmp_path, text)).capacity()
    assert found.rate == 20 and [rate for rate, _ in found.tried] == [3, 6, 12, 20]


@pytest.mark.parametrize("goal, message", [
    ("{attainmnet: 0.9}", "capacity_goal.attainmnet: unknown key 'attainmnet' (did you mean 'attainment'?)"),
    ("{attainment: 1.5}", "capacity_goal.attainment: must be <= 1"),
    ("{attainment: 0.9, start_rate: 8, max_rate: 4}", "capacity_goal: max_rate (4.0) is below start_rate (8.0)"),
    ("{attainment: 0.9, granularity: 1.5}", "capacity_goal.granularity: must be < 1"),
])
def test_a_bad_capacity_goal_names_its_line(tmp_path, goal, message):
    path = write(tmp_path, FILE.replace("{attainment: 0.9, max_rate: 400}", goal))
    with pytest.raises(ConfigError) as error:
        load_serving(path)
    assert f"serving.yaml:6: {message}" in str(error.value)


def test_the_option_is_the_files_key(tmp_path, capsys):
    assert main(["serve", str(write(tmp_path, FILE)), "--capacity-goal", "0.8", "--no-progress"]) == 2
    assert "is a serving file; give --capacity-goal in it" in capsys.readouterr().err
    assert main(["serve", "--capacity-goal", "1.5", "--no-progress"]) == 2
    assert "hwsim serve --capacity-goal: capacity_goal.attainment: must be <= 1" in capsys.readouterr().err
