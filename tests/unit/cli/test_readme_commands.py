"""Every `hwsim ...` command in README.md's shell code blocks runs as written and exits 0.

The commands are parsed from README.md, so the test follows its edits. Each runs in-process through
`hwsim.cli.main` in a fresh working folder (results/ lands there), with the repository folders the
command names (architectures/, workloads/, sweeps/) linked in. A line that chains commands with `&&`
runs its hwsim commands in order (other programs, such as pip, are not run); a pipe's hwsim side runs.
Lines with `hwsim validate`, `hwsim sweep`, `hwsim plot` (which reads the sweep's results) or `hwsim search` take tens
of seconds: the default run leaves them out, the slow test runs the whole README in order.
`hwsim validate` exits 1 while a published target fails (the README lists the failures it keeps), so
for it 1 counts as run; bad input or a crash (exit 2, an exception) fails for every command.
"""
import re
import shlex
from pathlib import Path

import pytest

from hwsim.cli import main

ROOT = Path(__file__).resolve().parents[3]
SHELL_BLOCKS = ("", "bash", "sh", "shell", "console")
SLOW = {"validate", "sweep", "plot", "search"}
RAN = {"validate": (0, 1)}       # exit codes of a completed run, by subcommand; others: 0


def _hwsim_commands(line: str) -> list[list[str]]:
    """The argv (after `hwsim`) of each hwsim command on a shell line, in order."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands, current = [], []
    for token in list(lexer) + ["&&"]:
        if token in ("&&", "||", ";"):
            commands.append(current)
            current = []
        else:
            current.append(token)
    commands = [c[:c.index("|")] if "|" in c else c for c in commands]
    return [c[1:] for c in commands if c and c[0] == "hwsim"]


def readme_lines() -> list[tuple[str, list[list[str]]]]:
    """(line, its hwsim commands) for every README shell line that runs hwsim."""
    text = (ROOT / "README.md").read_text()
    blocks = [body for language, body in re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)
              if language in SHELL_BLOCKS]
    return [(line.strip(), _hwsim_commands(line)) for body in blocks for line in body.splitlines()
            if _hwsim_commands(line)]


def _run_line(commands: list[list[str]], cwd: Path) -> list[str]:
    """Run one README line's commands in `cwd` as a shell would (stop at the first failure);
    returns the failures as 'hwsim ARGS -> exit N'."""
    for argv in commands:
        for token in argv:
            top = Path(token).parts[0] if "/" in token else None
            if top and (ROOT / top).exists() and not (cwd / top).exists():
                (cwd / top).symlink_to(ROOT / top)
        try:
            code = main(argv)
        except SystemExit as exc:         # --help exits through argparse
            code = exc.code or 0
        if code not in RAN.get(argv[0] if argv else "", (0,)):
            return [f"hwsim {shlex.join(argv)} -> exit {code}"]
    return []


LINES = readme_lines()


def test_the_readme_has_the_commands_this_test_runs():
    assert any(c[0] == "run" for _, commands in LINES for c in commands)
    assert {c[0] for _, commands in LINES for c in commands} & SLOW      # the slow test has work


@pytest.mark.parametrize("line, commands", [(line, commands) for line, commands in LINES
                                            if not {c[0] for c in commands} & SLOW],
                         ids=lambda value: value.split("#")[0].strip() if isinstance(value, str) else "")
def test_readme_command_runs_as_written(line, commands, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run_line(commands, tmp_path) == [], line


@pytest.mark.slow
def test_every_readme_command_runs_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    failures = [f for _, commands in LINES for f in _run_line(commands, tmp_path)]
    assert failures == []
