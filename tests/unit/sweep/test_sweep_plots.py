"""Sweep plots: the Pareto front is exact; every plot writes a PNG and an SVG."""
import argparse

import pytest
from sweep_fake_points import EVALUATOR, write_fake_sweep

from hwsim.sweep import load_sweep, plots, run_sweep, sweep_from_dict
from hwsim.sweep.cli import add_sweep_commands


def fake_result(folder):
    return run_sweep(load_sweep(write_fake_sweep(folder)), folder / "points.jsonl", evaluator=EVALUATOR,
                     progress=False)


def written(paths):
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    return paths


def test_pareto_front_keeps_exactly_the_undominated_points():
    rows = [{"tokens_per_s": t, "energy_per_token_j": e, "name": n} for t, e, n in
            [(10, 1.0, "a"), (20, 2.0, "b"), (15, 3.0, "dominated by b"), (20, 1.5, "c"), (5, 0.5, "d")]]
    front = plots.pareto_front(rows, "tokens_per_s", "energy_per_token_j")
    assert [r["name"] for r in front] == ["c", "a", "d"]


def test_pareto_param_and_breakdown_plots(tmp_path):
    result = fake_result(tmp_path)
    written(plots.plot_pareto(result, "tokens_per_s", "energy_per_token_j", tmp_path / "pareto.png"))
    written(plots.plot_metric_vs_param(result, "bw", "tokens_per_s", {"batch": "2"}, tmp_path / "bw.png"))
    written(plots.plot_breakdown(result, tmp_path / "breakdown.png"))


def test_roofline_of_one_real_point(tmp_path):
    sweep = sweep_from_dict({"name": "r", "machine": "nvidia_t4",
                             "workloads": [{"model": "gpt2-small", "phase": "decode", "context": 128}],
                             "axes": {"batch": {"path": "workload.batch", "values": [1, 8]}}})
    written(plots.plot_point_roofline(sweep, 1, tmp_path / "roofline.svg"))


def test_plot_command_reads_the_store_of_a_finished_sweep(tmp_path, capsys):
    top = argparse.ArgumentParser()
    add_sweep_commands(top.add_subparsers())

    def command(*words):
        args = top.parse_args([str(w) for w in words])
        return args.handler(args)

    sweep_file, out = write_fake_sweep(tmp_path), tmp_path / "out"
    plot = ["plot", "param", sweep_file, "--param", "batch", "--out-dir", out, "--evaluator", EVALUATOR]
    with pytest.raises(FileNotFoundError, match="run the sweep first"):
        command(*plot)
    assert command("sweep", sweep_file, "--quiet", "--out", out, "--evaluator", EVALUATOR) == 0
    assert command(*plot) == 0
    assert "tokens_per_s-vs-batch.png" in capsys.readouterr().out
    written([out / "tokens_per_s-vs-batch.png", out / "tokens_per_s-vs-batch.svg"])
