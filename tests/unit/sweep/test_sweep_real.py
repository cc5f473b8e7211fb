"""Sweeps through the real simulator: results equal hwsim.simulate, a real failure is recorded."""
import pytest

from hwsim.config.loader import load_document
from hwsim.machine import ARCHITECTURES_DIR, machine_from_dict
from hwsim.step import simulate
from hwsim.sweep import run_sweep, sweep_from_dict
from hwsim.sweep.__main__ import main
from hwsim.workload.model import load_model

SWEEP = {
    "name": "real", "machine": "nvidia_t4",
    "workloads": [{"model": "gpt2-small", "phase": "decode", "batch": 2}],
    "axes": {"bw_GBps": {"path": "machine.components.gpu.memory.bandwidth", "values": [160, 320], "unit": "GB/s"},
             # gpt2-small holds 1024 positions: context 2048 must fail in the simulator, not the sweep
             "context": {"path": "workload.context", "values": [256, 2048]}},
}


def test_points_equal_direct_simulation_and_the_oversized_context_fails(tmp_path):
    result = run_sweep(sweep_from_dict(SWEEP), tmp_path / "points.jsonl", progress=False)
    ok = {(p.params["bw_GBps"], p.params["context"]): result.record(p) for p in result.points}
    assert {k for k, r in ok.items() if r["status"] == "error"} == {(160, 2048), (320, 2048)}
    assert "max_position" in ok[(160, 2048)]["error"]

    data = load_document(ARCHITECTURES_DIR / "nvidia_t4.yaml").data
    data["components"]["gpu"]["memory"]["bandwidth"] = "320GB/s"
    direct = simulate(machine_from_dict(data), load_model("gpt2-small"), phase="decode", batch=2, context=256)
    metrics = ok[(320, 256)]["metrics"]
    assert metrics["tokens_per_s"] == direct.tokens_per_s
    assert metrics["energy_per_token_j"] == direct.energy_per_token_j
    assert metrics["time_by_kind_s"] == direct.time_by("kind")
    # memory-bound decode: the point with half the bandwidth is slower
    assert ok[(160, 256)]["metrics"]["tokens_per_s"] < metrics["tokens_per_s"]


def test_command_line_runs_resumes_and_writes_csv(tmp_path, capsys):
    import yaml

    path = tmp_path / "real.yaml"
    path.write_text(yaml.safe_dump(SWEEP))
    out = tmp_path / "out"
    assert main([str(path), "-j", "2", "--quiet", "--out", str(out)]) == 0
    first = capsys.readouterr().out
    assert "4 points, 4 evaluated now, 0 from the store, 2 ok, 2 failed" in first
    assert "best 5 by tokens_per_s (max):" in first and "failed points (2):" in first
    assert main([str(path), "--quiet", "--out", str(out)]) == 0
    assert "4 points, 0 evaluated now, 4 from the store" in capsys.readouterr().out
    assert len((out / "results.csv").read_text().splitlines()) == 5


@pytest.mark.parametrize("processes", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_dask_workers_run_real_points(tmp_path, processes):
    distributed = pytest.importorskip("distributed")
    serial = run_sweep(sweep_from_dict(SWEEP), tmp_path / "serial.jsonl", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_dask = run_sweep(sweep_from_dict(SWEEP), tmp_path / "dask.jsonl", cluster=client, progress=False)
    assert {k: r.get("metrics") for k, r in on_dask.records.items()} == \
           {k: r.get("metrics") for k, r in serial.records.items()}
