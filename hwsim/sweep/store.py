"""Crash-safe result store: an append-only JSON-lines file, one record per finished point.

Only the parent process writes. Each record is written as one line and flushed to the operating
system at once, so a sweep killed at any instant (SIGKILL included) keeps every point it had
finished. The file is fsync'ed at most every FSYNC_INTERVAL_S (an fsync costs ~6 ms here, a
quarter of a point), so a power loss costs at most that much work.

Opening the store drops every line that holds no record (a last line cut short by a kill, a line
damaged or edited by hand) and lists their numbers in `corrupt`, so the caller can say so and
evaluate those points again; the file is rewritten without them, atomically.

A record: {"key", "inputs", "status": "ok" | "error", "metrics": {...} | "error": "Type: message",
"seconds": evaluation time, "hwsim": version, "workload", "params"} (the last two for people); see
hwsim.sweep.points for the key (inputs and simulator build) and the inputs hash (inputs alone).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

FSYNC_INTERVAL_S = 1.0
STATUSES = ("ok", "error")


def _record(line: bytes) -> dict | None:
    """The record a line holds, or None if it holds none (cut short, overwritten, edited by hand)."""
    try:
        record = json.loads(line)
    except ValueError:               # not JSON, or not UTF-8
        return None
    if isinstance(record, dict) and isinstance(record.get("key"), str) and record.get("status") in STATUSES:
        return record
    return None


class ResultStore:
    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.records: dict[str, dict] = {}
        self.corrupt: list[int] = []         # numbers of the lines that held no readable record
        if self.path.exists():
            self._load()
        self._handle = self.path.open("a", encoding="utf-8")
        self._synced_at = time.monotonic()

    def _load(self) -> None:
        """Read every record; drop the lines that are not one (see `corrupt`), rewriting the file."""
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        if not lines[-1]:
            lines.pop()              # the file ends with a newline (or is empty)
        kept = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            record = _record(line)
            if record is None:
                self.corrupt.append(number)
                continue
            self.records[record["key"]] = record
            kept.append(line + b"\n")
        if self.corrupt or not data.endswith(b"\n") and data:
            self._rewrite(b"".join(kept))

    def _rewrite(self, data: bytes) -> None:
        """Replace the file atomically: a crash leaves either the old or the new file."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def get(self, key: str) -> dict | None:
        return self.records.get(key)

    def add(self, record: dict) -> None:
        """Append one record (written and flushed before returning) and remember it."""
        self._handle.write(json.dumps(record, sort_keys=True) + "\n")
        self._handle.flush()
        if time.monotonic() - self._synced_at >= FSYNC_INTERVAL_S:
            self._sync()
        self.records[record["key"]] = record

    def _sync(self) -> None:
        os.fsync(self._handle.fileno())
        self._synced_at = time.monotonic()

    def close(self) -> None:
        self._sync()
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
