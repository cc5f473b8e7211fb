"""A sweep killed with SIGKILL halfway loses no finished point and recomputes none when restarted."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sweep_fake_points import EVALUATOR, write_fake_sweep

HERE = Path(__file__).resolve().parent


def start(sweep_file, out, log, delay_s):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
           "SWEEP_FAKE_LOG": str(log), "SWEEP_FAKE_DELAY_S": str(delay_s)}
    return subprocess.Popen([sys.executable, "-m", "hwsim.sweep", str(sweep_file), "-j", "2", "--quiet",
                             "--out", str(out), "--evaluator", EVALUATOR],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def stored(store) -> list[dict]:
    if not store.exists():
        return []
    return [json.loads(line) for line in store.read_text().splitlines() if line.endswith("}")]


def test_sigkill_halfway_then_resume(tmp_path):
    sweep_file, out, log = write_fake_sweep(tmp_path), tmp_path / "out", tmp_path / "evaluations.log"
    store = out / "points.jsonl"
    first = start(sweep_file, out, log, delay_s=0.3)
    deadline = time.monotonic() + 60
    while len(stored(store)) < 4 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)          # the sweep and its workers, mid-flight
    first.wait()
    before = {r["key"]: r for r in stored(store)}
    assert 4 <= len(before) < 11, "the kill should land halfway"

    second = start(sweep_file, out, log, delay_s=0)
    output = second.communicate(timeout=60)[0].decode()
    assert second.returncode == 0, output
    assert f"11 points, {11 - len(before)} evaluated now, {len(before)} from the store, 8 ok, 3 failed" in output

    records = stored(store)
    assert len(records) == len({r["key"] for r in records}) == 11   # every point once, no duplicate
    after = {r["key"]: r for r in records}
    assert all(after[key] == record for key, record in before.items())
    evaluations = log.read_text().splitlines()
    for record in before.values():                 # finished before the kill: evaluated exactly once
        params = record["params"]
        prefix = f"{params['batch']} {params['bw'] * 1e9:g} "
        assert sum(line.startswith(prefix) for line in evaluations) == 1
