"""Sweep points that serve a request stream: serving metrics equal a direct serve() run, and they
are errors in a sweep without a serving: block."""
from pathlib import Path

import pytest

from hwsim.config.errors import ConfigError
from hwsim.config.loader import load_document
from hwsim.machine import ARCHITECTURES_DIR, machine_from_dict
from hwsim.serving.serve import serve
from hwsim.sweep import load_sweep, run_sweep, sweep_from_dict
from hwsim.sweep.points import expand

ROOT = Path(__file__).resolve().parents[3]
SWEEP = {
    "name": "serving", "machine": "nvidia_a100_80gb",
    "workloads": [{"model": "llama2-7b", "phase": "decode", "batch": 1}],
    "axes": {"bw_TBps": {"path": "machine.components.gpu.memory.bandwidth", "values": [1, 2], "unit": "TB/s"}},
    "serving": {"requests": {"count": 6, "rate": 4, "arrival": "constant", "prompt": "fixed:64",
                             "output": "fixed:8"}, "scheduler": {"policy": "chunked"}, "slo": {"tpot": "20ms"}},
    "metrics": ["tokens_per_s", "ttft_p99_s", "tpot_p99_s", "goodput_rps"],
    "objectives": {"goodput_rps": "max"},
}


def test_serving_points_equal_direct_serve_runs(tmp_path):
    result = run_sweep(sweep_from_dict(SWEEP), tmp_path / "points.jsonl", progress=False)
    records = {p.params["bw_TBps"]: result.record(p) for p in result.points}
    assert all(r["status"] == "ok" for r in records.values())
    data = load_document(ARCHITECTURES_DIR / "nvidia_a100_80gb.yaml").data
    data["components"]["gpu"]["memory"]["bandwidth"] = "2TB/s"
    direct = serve(machine_from_dict(data), "llama2-7b", n=6, rate=4, arrival="constant", prompt="fixed:64",
                   output="fixed:8", scheduler="chunked", slo_tpot=0.02).summary()
    metrics = records[2]["metrics"]
    assert metrics["ttft_p99_s"] == direct["ttft_s"]["p99"] and metrics["tpot_p99_s"] == direct["tpot_s"]["p99"]
    assert metrics["goodput_rps"] == direct["slo"]["goodput_rps"]
    assert records[1]["metrics"]["tpot_p99_s"] > metrics["tpot_p99_s"]      # decode is bandwidth-bound


def test_serving_metrics_need_a_serving_block():
    without = {key: value for key, value in SWEEP.items() if key != "serving"}
    with pytest.raises(ConfigError, match="unknown metric 'ttft_p99_s' \\(a serving metric: add a serving: block\\)"):
        sweep_from_dict(without)


def test_the_shipped_serving_sweep_expands():
    points, _ = expand(load_sweep(ROOT / "sweeps" / "a100_serving_bandwidth.yaml"), check=False)
    assert len(points) == 4 and points[0].task["serving"]["scheduler"] == "chunked"
