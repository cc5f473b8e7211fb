"""Config errors that point at the file, the line and the key path, with a did-you-mean."""
from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass


def did_you_mean(word: str, choices) -> str:
    """' (did you mean 'channels'?)' when a close match exists, else ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def print_errors(exc: BaseException, prog: str = "hwsim") -> None:
    """`exc` on stderr as one `prog: error: ...` line per problem (a ConfigError lists every problem
    of a file on its own line), so that each line can be read and grepped alone; the exception's
    type when it has no message."""
    for line in str(exc).splitlines() or [type(exc).__name__]:
        print(f"{prog}: error: {line}", file=sys.stderr)


def format_path(path: tuple) -> str:
    """('memory', 'channels') -> 'memory.channels'; list indices become '[3]'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one place: 'file:line: key.path: message'."""

    file: str
    line: int | None
    path: tuple
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {format_path(self.path)}: {self.message}"


class ConfigError(ValueError):
    """Raised for any invalid input file; lists every problem found, one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
