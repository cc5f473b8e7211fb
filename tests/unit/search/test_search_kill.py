"""`hwsim search -j 2` killed with SIGKILL keeps every finished point, and the same command resumes
without evaluating any stored point again. The search runs as a real process in a session of its own;
whatever is left of that session is killed at the end. Every wait is bounded."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from search_toy import EVALUATOR, write_toy_search

from hwsim.search.run import run_search
from hwsim.search.spec import load_search

HERE = Path(__file__).resolve().parent
WAIT_S = 60


def stored_params(store: Path) -> list[tuple]:
    if not store.exists():
        return []
    return [(float(r["params"]["batch"]), float(r["params"]["bw"]))
            for r in map(json.loads, store.read_text().splitlines())]


def test_sigkill_then_resume_recomputes_nothing_stored(tmp_path, monkeypatch):
    path = write_toy_search(tmp_path)
    out, log = tmp_path / "out", tmp_path / "evaluations.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
           "SEARCH_TOY_LOG": str(log), "SEARCH_TOY_DELAY_S": "0.3"}
    process = subprocess.Popen([sys.executable, "-m", "hwsim.cli", "search", str(path), "-j", "2", "--quiet",
                                "--out", str(out), "--evaluator", EVALUATOR],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + WAIT_S
        while len(stored_params(out / "points.jsonl")) < 4:
            assert process.poll() is None and time.monotonic() < deadline, "the search ended before the kill"
            time.sleep(0.05)
        process.kill()                                   # SIGKILL, no chance to clean up
        process.wait(timeout=WAIT_S)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)       # workers end with their parent; this is a safety net
        except ProcessLookupError:
            pass
    stored = stored_params(out / "points.jsonl")
    assert 4 <= len(stored) < 12
    before = len(log.read_text().splitlines())
    monkeypatch.setenv("SEARCH_TOY_LOG", str(log))
    result = run_search(load_search(path), out, evaluator=EVALUATOR, progress=False)
    again = [tuple(map(float, line.split())) for line in log.read_text().splitlines()[before:]]
    assert not set(again) & set(stored)                              # nothing stored is evaluated again
    assert result.computed == len(again) and len(result.trials) == 12
