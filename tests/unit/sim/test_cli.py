"""The hwsim command: run writes readable files, list and validate work, errors exit 2."""
import json

import pytest

from hwsim.cli import main


def test_run_writes_report_ops_and_perfetto_trace(tmp_path, capsys):
    assert main(["run", "nvidia_a100_80gb", "llama2-7b", "--context", "256", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "tokens/s" in printed and "bound          gpu.memory" in printed
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["bound"] == "gpu.memory" and report["tokens_per_s"] > 0
    rows = (tmp_path / "ops.csv").read_text().splitlines()
    assert rows[0].startswith("id,name,kind") and len(rows) == report["ops"] + 1
    trace = json.loads((tmp_path / "trace.json").read_text())
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(spans) == report["ops"] and all(e["dur"] >= 0 for e in spans)
    assert (tmp_path / "breakdown.png").stat().st_size > 0 and (tmp_path / "roofline.png").stat().st_size > 0


def test_run_without_arguments_uses_the_default_machine_and_model(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--no-plots"]) == 0
    assert "llama2-7b on nvidia-a100-80gb-sxm" in capsys.readouterr().out
    [folder] = (tmp_path / "results").iterdir()
    assert folder.name.startswith("nvidia_a100_80gb-llama2-7b-decode-b1-c2048-") and (folder / "report.json").exists()


def test_list_shows_machines_models_and_component_types(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "nvidia_a100_80gb" in out and "deepseek-v3" in out and "analytic_device" in out


def test_validate_runs_the_roofline_group(capsys):
    assert main(["validate", "--only", "roofline_floor"]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "FAIL" not in out


def test_bad_input_exits_2_with_the_reason(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    assert main(["run", str(bad), "llama2-7b", "--no-plots"]) == 2
    assert "bad.yaml:1: description: missing required key" in capsys.readouterr().err
    assert main(["run", "nvidia_a100_80gb", "llama2-7bb"]) == 2
    assert "did you mean 'llama2-7b'" in capsys.readouterr().err


def test_help_explains_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    for flag in ("--phase", "--batch", "--context", "--seed", "--out", "--routing"):
        assert flag in text


def test_run_several_decode_steps_reports_the_expert_cache(tmp_path, capsys):
    assert main(["run", "edge_moe_flash", "olmoe-1b-7b", "--steps", "2", "--context", "64",
                 "--no-plots", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 decode steps" in out and "expert cache" in out
    assert json.loads((tmp_path / "report.json").read_text())["tokens"] == 2
    assert main(["run", "nvidia_a100_80gb", "llama2-7b", "--phase", "prefill", "--steps", "2"]) == 2


def test_a_saved_trace_replays_to_the_same_report(tmp_path, capsys):
    trace = tmp_path / "step.json"
    assert main(["run", "nvidia_h100_sxm", "mixtral-8x7b", "--weights", "fp8", "--context", "128", "--batch", "2",
                 "--save-trace", str(trace), "--no-plots", "--out", str(tmp_path / "a")]) == 0
    assert main(["run", "nvidia_h100_sxm", "--trace", str(trace), "--no-plots", "--out", str(tmp_path / "b")]) == 0
    first, replay = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("a", "b"))
    assert replay["latency_s"] == first["latency_s"] and replay["model"] == "mixtral-8x7b"
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    assert main(["run", "nvidia_h100_sxm", "--trace", str(tmp_path / "bad.json")]) == 2
    assert "bad.json" in capsys.readouterr().err
