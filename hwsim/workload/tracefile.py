"""A generated (or user-supplied) operator trace and its versioned JSON file format.

File layout (version 1):

    {"format": "hwsim-trace", "version": 1,
     "model": ..., "phase": ..., "batch": ..., "context": ..., "seed": ...,
     "precision": {"weights": ..., "activations": ..., "kv_cache": ...},
     "routing": {...} or null,
     "sequences": [[new, cached, logits], ...] or null,   # an iteration's sequences
     "fields": ["id", "name", "kind", ...],      # the Op fields, in row order
     "ops": [[0, "embedding", "embedding", ...], ...]}

Rows are positional against `fields`, so a file stays small and readable. Ops must be listed
with ids 0..n-1 in order and every dependency must point to an earlier op.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Optional

from hwsim.workload.ops import KINDS, Op
from hwsim.workload.precision import Precision

FORMAT = "hwsim-trace"
VERSION = 1
OP_FIELDS = tuple(f.name for f in fields(Op))
_SUMMED = ("flops", "weight_bytes", "act_in_bytes", "act_out_bytes", "kv_read_bytes", "kv_write_bytes")


@dataclass(frozen=True)
class Trace:
    """One inference step of one model as an operator DAG (ops in a valid execution order)."""

    ops: tuple[Op, ...]
    model: str
    phase: str                 # "prefill" | "decode" | "mixed" (an iteration)
    batch: int                 # sequences
    context: int               # prefill: prompt tokens per sequence; decode: tokens already cached;
                               # mixed: the longest sequence's keys
    precision: Precision
    seed: int = 0
    routing: Optional[dict] = None   # how MoE tokens were routed, with load statistics
    sequences: Optional[tuple] = None  # an iteration's (new, cached, logits) per sequence; None for a phase

    @property
    def tokens(self) -> int:
        """Tokens computed in the step: new tokens of an iteration, batch (decode), batch x context (prefill)."""
        if self.sequences is not None:
            return sum(seq[0] for seq in self.sequences)
        return self.batch if self.phase == "decode" else self.batch * self.context

    def totals(self) -> dict[str, float]:
        """Sum of flops and of each byte kind over all ops, plus total_bytes."""
        return _sum(self.ops)

    def totals_by(self, key: str = "kind") -> dict:
        """totals() grouped by an Op attribute: 'kind', 'op_class', 'layer', 'expert', 'name'."""
        groups = defaultdict(list)
        for op in self.ops:
            groups[getattr(op, key)].append(op)
        return {group: _sum(ops) for group, ops in groups.items()}

    def save(self, path) -> None:
        """Write the trace as versioned JSON to `path`, creating its folder if needed."""
        header = {"format": FORMAT, "version": VERSION, "model": self.model, "phase": self.phase,
                  "batch": self.batch, "context": self.context, "seed": self.seed,
                  "precision": asdict(self.precision), "routing": self.routing,
                  "sequences": self.sequences, "fields": OP_FIELDS}
        rows = [[getattr(op, name) for name in OP_FIELDS] for op in self.ops]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps({**header, "ops": rows}, separators=(",", ":")))

    @classmethod
    def load(cls, path) -> "Trace":
        """Read a trace file; raise ValueError naming the file and the problem if it is not valid."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read trace file: {exc}") from None
        try:
            return _from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            message = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ValueError(f"{path}: {message}") from None


def _sum(ops) -> dict[str, float]:
    total = {name: 0.0 for name in _SUMMED}
    for op in ops:
        for name in _SUMMED:
            total[name] += getattr(op, name)
    total["total_bytes"] = sum(total[name] for name in _SUMMED[1:])
    return total


def _from_dict(data) -> Trace:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file (no \"format\": \"{FORMAT}\" header)")
    if data.get("version") != VERSION:
        raise ValueError(f"trace format version {data.get('version')!r}; this hwsim reads version {VERSION}")
    names = data["fields"]
    missing = set(OP_FIELDS) - {"deps", "count", "expert", "m", "n", "k", "device", "collective", "group"} - set(names)
    unknown = set(names) - set(OP_FIELDS)
    if missing or unknown:
        raise ValueError(f"op fields: missing {sorted(missing)}, unknown {sorted(unknown)}")
    ops = []
    for index, row in enumerate(data["ops"]):
        if len(row) != len(names):
            raise ValueError(f"op {index}: {len(row)} values for {len(names)} fields")
        values = dict(zip(names, row))
        values["deps"] = tuple(values.get("deps", ()))
        op = Op(**values)
        if op.id != index or op.kind not in KINDS or any(not 0 <= d < index for d in op.deps):
            raise ValueError(f"op {index} ({op.name}): ids must run 0..n-1, kind must be one of "
                             f"{', '.join(KINDS)}, deps must point to earlier ops")
        ops.append(op)
    return Trace(tuple(ops), data["model"], data["phase"], data["batch"], data["context"],
                 Precision(**data["precision"]), data.get("seed", 0), data.get("routing"),
                 _sequences(data.get("sequences")))


def _sequences(rows):
    """An iteration's sequences from a file, as tuples (None for a phase's trace)."""
    return None if rows is None else tuple(tuple(row) for row in rows)
