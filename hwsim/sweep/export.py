"""Sweep results as tables: CSV always, Parquet when pyarrow is installed."""
from __future__ import annotations

import csv
from pathlib import Path

from hwsim.sweep.run import SweepResult

PARQUET_HINT = "Parquet export needs pyarrow: pip install pyarrow"


def _columns(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(k for row in rows for k in row))


def write_csv(result: SweepResult, path) -> Path:
    path = Path(path)
    rows = result.rows()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=_columns(rows), restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_parquet(result: SweepResult, path) -> Path:
    """Raises RuntimeError with PARQUET_HINT when pyarrow is missing."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise RuntimeError(PARQUET_HINT) from None
    rows = result.rows()
    columns = _columns(rows)
    table = pa.table({c: [row.get(c) for row in rows] for c in columns})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path
