"""A killed sweep leaves no worker behind, keeps every finished point and recomputes none of them.

The sweeps run as real `python -m hwsim.cli sweep -j 2` processes in a session of their own, so
every process they start (the pool's workers) is in the process group numbered by their pid;
/proc tells which of those are still alive after the kill. Every wait is bounded.
"""
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sweep_fake_points import EVALUATOR, write_fake_sweep

HERE = Path(__file__).resolve().parent
WAIT_S = 60


def _default_sigint():
    """Ctrl-C as a terminal delivers it: a test run started in the background of a shell inherits
    SIGINT ignored (POSIX shells ignore it for asynchronous commands), and so would the sweep."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def sweep_process(sweep_file, out, log, delay_s):
    """A running `hwsim sweep -j 2` in a session of its own; whatever is left of it is killed at the end."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
           "SWEEP_FAKE_LOG": str(log), "SWEEP_FAKE_DELAY_S": str(delay_s)}
    process = subprocess.Popen([sys.executable, "-m", "hwsim.cli", "sweep", str(sweep_file), "-j", "2", "--quiet",
                                "--out", str(out), "--evaluator", EVALUATOR],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                               preexec_fn=_default_sigint)
    try:
        yield process
    finally:
        if alive_in_group(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT_S)


def stored(store) -> list[dict]:
    if not store.exists():
        return []
    return [json.loads(line) for line in store.read_text().splitlines() if line.endswith("}")]


def alive_in_group(group: int) -> list[int]:
    """Pids of the live (not zombie) processes of a process group."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):      # not a process, or it ended meanwhile
            continue
        if int(fields[2]) == group and fields[0] not in "ZX":
            pids.append(int(entry.name))
    return pids


def wait_until(condition, what: str):
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {WAIT_S} s waiting for {what}"
        time.sleep(0.02)


def resume_and_check(sweep_file, out, log, before: dict):
    """Run the sweep again: it evaluates only the missing points, and each stored point was evaluated once."""
    store = out / "points.jsonl"
    with sweep_process(sweep_file, out, log, delay_s=0) as second:
        output = second.communicate(timeout=WAIT_S)[0].decode()
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig, whole_group, returncode", [
    (signal.SIGINT, True, 130),                 # Ctrl-C in a terminal: the whole foreground group
    (signal.SIGTERM, False, 143),               # kill PID
    (signal.SIGKILL, False, -signal.SIGKILL),   # kill -9 PID: the workers notice their parent is gone
    (signal.SIGKILL, True, -signal.SIGKILL),    # kill -9 the group, mid-write of the store included
], ids=["sigint-group", "sigterm-parent", "sigkill-parent", "sigkill-group"])
def test_a_killed_sweep_leaves_no_process_and_resumes(tmp_path, sig, whole_group, returncode):
    sweep_file, out, log = write_fake_sweep(tmp_path), tmp_path / "out", tmp_path / "evaluations.log"
    store = out / "points.jsonl"
    with sweep_process(sweep_file, out, log, delay_s=0.3) as first:
        wait_until(lambda: stored(store) or first.poll() is not None, "a first stored point")
        assert first.poll() is None, first.communicate()[0].decode()
        assert len(alive_in_group(first.pid)) == 3, "the sweep and its 2 workers"
        (os.killpg if whole_group else os.kill)(first.pid, sig)
        output = first.communicate(timeout=WAIT_S)[0].decode()
        wait_until(lambda: not alive_in_group(first.pid), "the workers to end")
    assert first.returncode == returncode, output
    if sig != signal.SIGKILL:
        assert "interrupted: finished points are kept in" in output and "Traceback" not in output
    before = {r["key"]: r for r in stored(store)}
    assert 1 <= len(before) < 11, "the kill should land before the end"
    resume_and_check(sweep_file, out, log, before)


ORPHAN = """
import os, sys, time
from hwsim.sweep.executors import _die_with_parent
parent = os.getpid()
if os.fork() == 0:               # a stand-in worker
    sys.platform = sys.argv[1]   # 'linux': prctl; anything else: the watchdog thread
    _die_with_parent(parent)
    time.sleep(WAIT_S)
    os._exit(0)
print("forked", flush=True)
time.sleep(WAIT_S)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_a_worker_ends_when_its_parent_is_killed(platform):
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN.replace("WAIT_S", str(WAIT_S)), platform],
                              stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert parent.stdout.readline() == b"forked\n"
        parent.kill()
        parent.wait(timeout=WAIT_S)
        wait_until(lambda: not alive_in_group(parent.pid), "the orphaned worker to end")
    finally:
        if alive_in_group(parent.pid):
            os.killpg(parent.pid, signal.SIGKILL)
