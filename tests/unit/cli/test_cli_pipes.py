"""`hwsim ... | head -1` ends quietly: a reader that goes away leaves no BrokenPipeError traceback."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}   # this checkout


@pytest.mark.parametrize("command", [
    ["list"],
    ["validate", "--only", "roofline_floor"],
    ["run", "nvidia_t4", "gpt2-xl", "--context", "64", "--no-plots"],
])
def test_a_closed_pipe_ends_the_command_quietly(command, tmp_path):
    """The read end closes before the command prints anything (what `head -1` does once it has its
    line), so the command's writes meet a broken pipe every time, whatever its output's size."""
    child = subprocess.Popen([sys.executable, "-m", "hwsim.cli", *command], cwd=tmp_path, env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()
    errors = child.stderr.read().decode()
    assert child.wait() == 141 and errors == ""


def test_a_pipe_into_head_prints_the_first_line_and_nothing_on_stderr(tmp_path):
    shell = subprocess.run(f"{sys.executable} -m hwsim.cli list | head -1", shell=True, cwd=tmp_path, env=ENV,
                           capture_output=True, text=True)
    assert shell.stdout == "architectures (architectures/*.yaml):\n" and shell.stderr == ""
