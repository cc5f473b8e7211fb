"""`hwsim serve` and `hwsim.serve(...)` on a shipped machine; bad input is one line, exit 2."""
import json

import hwsim
from hwsim.cli import main
from hwsim.serving.metrics import ServingReport


def test_the_command_serves_and_writes_its_tables(tmp_path, capsys):
    code = main(["serve", "nvidia_a100_80gb", "llama2-7b", "--requests", "3", "--rate", "2", "--prompt", "fixed:32",
                 "--output", "fixed:4", "--scheduler", "chunked", "--slo-ttft", "1s", "--slo-tpot", "100ms",
                 "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "3/3 requests served" in printed and "memo hit rate" in printed
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["completed"] == 3 and summary["slo"]["tpot_s"] == 0.1 and summary["kv"]["blocks"] > 1000
    assert len((tmp_path / "requests.csv").read_text().splitlines()) == 4
    rows = (tmp_path / "iterations.csv").read_text().splitlines()
    assert rows[0] == "start_s,latency_s,sequences,new_tokens,kv_blocks,replica"
    assert len(rows) == summary["iterations"] + 1


def test_bad_input_is_one_line(capsys):
    assert main(["serve", "--scheduler", "chunkd", "--no-progress"]) == 2
    assert main(["serve", "--rate", "-1", "--no-progress"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and "did you mean 'chunked'" in errors[0] and "--rate: requests.rate: must be > 0" in errors[1]


def test_the_python_api_returns_a_report():
    report = hwsim.serve("nvidia_a100_80gb", "llama2-7b", n=2, rate=1.0, prompt=16, output=2, scheduler="static")
    assert isinstance(report, ServingReport) and len(report.done) == 2
    assert report.summary()["energy_per_output_token_j"] > 0
