"""Crash-safe result store: an append-only JSON-lines file, one record per finished point.

Only the parent process writes. Each record is written as one line and flushed to the operating
system at once, so a sweep killed at any instant (SIGKILL included) keeps every point it had
finished. The file is fsync'ed at most every FSYNC_INTERVAL_S (an fsync costs ~6 ms here, a
quarter of a point), so a power loss costs at most that much work. A half-written last line is
cut off when the store is opened again.

A record: {"key", "status": "ok" | "error", "metrics": {...} | "error": "Type: message",
"seconds": evaluation time, "hwsim": version, "workload", "params"} (the last two for people).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

FSYNC_INTERVAL_S = 1.0


class ResultStore:
    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.records: dict[str, dict] = {}
        if self.path.exists():
            self._load()
        self._handle = self.path.open("a", encoding="utf-8")
        self._synced_at = time.monotonic()

    def _load(self) -> None:
        data = self.path.read_bytes()
        complete = data[:data.rfind(b"\n") + 1]
        if len(complete) != len(data):          # a write cut short by a crash: drop the fragment
            with self.path.open("r+b") as handle:
                handle.truncate(len(complete))
        for line in complete.decode("utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                self.records[record["key"]] = record

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
