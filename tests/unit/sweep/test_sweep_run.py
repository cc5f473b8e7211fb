"""Running sweeps with the fake evaluator: failures, resuming from the store, -j 2, Dask, export,
a damaged store, results of another simulator build, an unreachable Dask scheduler."""
import csv
import json

import pytest
from sweep_fake_points import EVALUATOR, write_fake_sweep

from hwsim.cli import main
from hwsim.sweep import executors, load_sweep, run_sweep
from hwsim.sweep import points as sweep_points
from hwsim.sweep.export import PARQUET_HINT, write_csv, write_parquet
from hwsim.sweep.run import read_results
from hwsim.sweep.summary import best_points, summary


def run(folder, **options):
    folder.mkdir(parents=True, exist_ok=True)
    return run_sweep(load_sweep(write_fake_sweep(folder)), folder / "points.jsonl", evaluator=EVALUATOR,
                     progress=False, **options)


def metrics_by_key(result):
    return {k: r.get("metrics") or r["error"] for k, r in result.records.items()}


def test_a_failing_point_records_its_error_and_the_sweep_goes_on(tmp_path):
    result = run(tmp_path)
    assert len(result.points) == 11 and result.removed == 1 and result.computed == 11
    failures = result.failures
    assert sorted(p.params["bw"] for p, _ in failures) == [100, 200, 300]
    assert {r["error"] for _, r in failures} == {"ValueError: batch 3 is the failing point"}
    text = summary(result)
    assert "11 points, 11 evaluated now, 0 from the store, 8 ok, 3 failed; constraints removed 1" in text
    assert "failed points (3):" in text and "batch=3, bw=100: ValueError: batch 3 is the failing point" in text
    best = best_points(result, "tokens_per_s", "max")[0]      # 4 x 0.2 TB/s x 100
    assert (best["batch"], best["bw"], best["tokens_per_s"]) == (4, 200, pytest.approx(80.0))


def test_a_second_run_evaluates_nothing_unless_failures_are_retried(tmp_path, monkeypatch):
    log = tmp_path / "evaluations.log"
    monkeypatch.setenv("SWEEP_FAKE_LOG", str(log))
    first = run(tmp_path)
    again = run(tmp_path)
    assert again.computed == 0 and metrics_by_key(again) == metrics_by_key(first)
    assert len(log.read_text().splitlines()) == 11
    retried = run(tmp_path, retry_failed=True)
    assert retried.computed == 3 and len(log.read_text().splitlines()) == 14


def test_local_processes_give_the_serial_results_from_long_lived_workers(tmp_path, monkeypatch):
    serial = run(tmp_path / "serial")
    log = tmp_path / "evaluations.log"
    monkeypatch.setenv("SWEEP_FAKE_LOG", str(log))
    parallel = run(tmp_path / "parallel", jobs=2)
    assert metrics_by_key(parallel) == metrics_by_key(serial)
    # 11 points in 2 worker processes: imports and numba kernels load once per worker, not per point
    assert len({line.split()[2] for line in log.read_text().splitlines()}) <= 2


def test_dask_local_cluster_gives_the_serial_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    serial = run(tmp_path / "serial")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_dask = run(tmp_path / "dask", cluster=client)
    assert on_dask.computed == 11 and metrics_by_key(on_dask) == metrics_by_key(serial)


def test_csv_has_one_row_per_point_with_parameters_metrics_and_errors(tmp_path):
    path = write_csv(run(tmp_path), tmp_path / "results.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 11
    first = rows[0]
    assert (first["batch"], first["bw"], float(first["tokens_per_s"])) == ("1", "100", pytest.approx(10.0))
    assert float(first["time_by_kind_s.matmul"]) == pytest.approx(0.08)
    assert [r["status"] for r in rows].count("error") == 3


def test_parquet_needs_pyarrow(tmp_path):
    result = run(tmp_path)
    try:
        import pyarrow.parquet as pq
    except ImportError:
        with pytest.raises(RuntimeError, match="pip install pyarrow"):
            write_parquet(result, tmp_path / "results.parquet")
        assert "pyarrow" in PARQUET_HINT
    else:
        table = pq.read_table(write_parquet(result, tmp_path / "results.parquet"))
        assert table.num_rows == 11


def test_limit_evaluates_a_few_points_and_the_next_run_finishes_the_rest(tmp_path):
    first = run(tmp_path, limit=4)
    assert "4 evaluated now, 0 from the store, 4 ok, 0 failed, 7 not evaluated yet" in summary(first)
    rest = run(tmp_path)
    assert "11 points, 7 evaluated now, 4 from the store, 8 ok, 3 failed" in summary(rest)


def test_a_corrupt_store_line_is_named_and_its_point_recomputed(tmp_path, capsys):
    first = run(tmp_path)
    store = tmp_path / "points.jsonl"
    lines = store.read_text().splitlines(keepends=True)
    damaged = json.loads(lines[4])["key"]
    lines[4] = lines[4].replace(":", "#", 1)                  # one overwritten byte
    store.write_text("".join(lines) + lines[7][:30])          # and a last line cut short
    capsys.readouterr()
    again = run(tmp_path)
    warnings = capsys.readouterr().err.splitlines()
    assert warnings == [f"{store}:5: corrupt result, recomputing", f"{store}:12: corrupt result, recomputing"]
    assert again.computed == 1 and again.record(next(p for p in again.points if p.key == damaged))
    assert metrics_by_key(again) == metrics_by_key(first)


def test_results_of_another_simulator_build_are_recomputed_unless_reused(tmp_path, monkeypatch):
    log = tmp_path / "evaluations.log"
    monkeypatch.setenv("SWEEP_FAKE_LOG", str(log))
    first = run(tmp_path)
    monkeypatch.setattr(sweep_points, "code_fingerprint", lambda: "another build")
    sweep, store = load_sweep(tmp_path / "fake.yaml"), tmp_path / "points.jsonl"
    assert not read_results(sweep, store, EVALUATOR).records                      # what plots show
    assert read_results(sweep, store, EVALUATOR, reuse_stale=True).stale_reused == 11
    reused = run(tmp_path, reuse_stale=True)
    assert reused.computed == 0 and reused.stale_reused == 11
    assert list(metrics_by_key(reused).values()) == list(metrics_by_key(first).values())
    assert "11 from the store, 8 ok, 3 failed; constraints removed 1; 11 results of another simulator build " \
           "reused (--reuse-stale)" in summary(reused)
    again = run(tmp_path)
    assert again.computed == 11 and again.stale_recomputed == 11 and len(log.read_text().splitlines()) == 22
    assert "11 evaluated now, 0 from the store, 8 ok, 3 failed; constraints removed 1; 11 stored results of " \
           "another simulator build recomputed" in summary(again)
    monkeypatch.undo()                         # back to the first build: its results are still stored
    assert run(tmp_path).computed == 0


def test_records_from_before_code_fingerprints_count_as_another_build(tmp_path):
    first = run(tmp_path)
    store = tmp_path / "points.jsonl"
    legacy = [json.loads(line) for line in store.read_text().splitlines()]
    for record in legacy:                      # then the key was the inputs hash, and there was no "inputs"
        record["key"] = record.pop("inputs")
    store.write_text("".join(json.dumps(record) + "\n" for record in legacy))
    reused = run(tmp_path, reuse_stale=True)
    assert reused.computed == 0 and reused.stale_reused == 11
    assert list(metrics_by_key(reused).values()) == list(metrics_by_key(first).values())
    assert run(tmp_path).stale_recomputed == 11


def test_an_unreachable_dask_scheduler_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 1)
    sweep_file = write_fake_sweep(tmp_path)
    capsys.readouterr()
    code = main(["sweep", str(sweep_file), "--out", str(tmp_path / "out"), "--evaluator", EVALUATOR,
                 "--cluster", "tcp://127.0.0.1:1"])         # loopback port 1: nothing listens there
    err = capsys.readouterr().err
    assert code == 2 and err.splitlines() == [
        "hwsim: error: cannot reach the Dask scheduler: Timed out trying to connect to tcp://127.0.0.1:1 after 1 s"]


def test_a_sweep_that_fails_to_start_prints_one_error_line_per_problem(tmp_path, capsys):
    from hwsim.sweep.cli import interruptible

    def fails():
        raise RuntimeError("first problem\nsecond problem")

    assert interruptible("sweep", tmp_path / "points.jsonl", fails) == (None, 2)
    assert capsys.readouterr().err.splitlines() == ["hwsim sweep: error: first problem",
                                                    "hwsim sweep: error: second problem"]
