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
with ids 0..n-1 in order and every dependency must point to an earlier op. Loading checks every
value (counts are integers, work is a finite number in [0, MAX_AMOUNT], kinds and formats are known,
a matmul's shape bounds its work) and names the op and the rule it breaks, so nothing malformed
reaches a component's timing model.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Optional

from hwsim.config.errors import did_you_mean
from hwsim.workload.ops import COLLECTIVES, KINDS, OP_CLASS, Op
from hwsim.workload.precision import BITS, Precision

FORMAT = "hwsim-trace"
VERSION = 1
# a fused kernel's stages are the dataflow mapping's product at run time, never stored in a trace file
OP_FIELDS = tuple(f.name for f in fields(Op) if f.name != "stages")
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


# integer op fields -> their least valid value (layer -1: outside the blocks, expert -2: shared,
# device -1: unplaced); amounts of work (FLOPs, bytes) must lie in [0, MAX_AMOUNT]: 10^18 per
# operator is orders of magnitude above any real one and keeps pages, bursts and picoseconds
# derived from it finite and within the 64-bit integers of the timing kernels
MAX_AMOUNT = 1e18
_INTEGERS = {"id": 0, "layer": -1, "m": 0, "n": 0, "k": 0, "count": 1, "expert": -2, "device": -1, "group": 0}
_GEMMS = tuple(kind for kind, op_class in OP_CLASS.items() if op_class in ("gemm", "attention"))
_OPTIONAL = {"deps", "count", "expert", "m", "n", "k", "device", "collective", "group", "seqs"}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_amount(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= MAX_AMOUNT


def _field_problem(index: int, name: str, value) -> str | None:
    """What is wrong with field `name` of op `index`, or None."""
    if name in _INTEGERS:
        if not _is_int(value) or value < _INTEGERS[name]:
            return f"{name} must be an integer >= {_INTEGERS[name]}, got {value!r}"
    elif name in _SUMMED:
        if not _is_amount(value):
            return f"{name} must be a finite number in [0, {MAX_AMOUNT:g}], got {value!r}"
    elif name == "deps":
        if not isinstance(value, list) or not all(_is_int(d) and 0 <= d < index for d in value):
            return f"deps must be a list of earlier op ids (0..{index - 1}), got {value!r}"
    elif name == "seqs":
        if not isinstance(value, list) or not all(isinstance(pair, list) and len(pair) == 2 and all(map(_is_int, pair))
                                                  and 1 <= pair[0] <= pair[1] for pair in value):
            return f"seqs must be a list of [queries, keys] pairs with 1 <= queries <= keys, got {value!r}"
    elif not isinstance(value, str):
        return f"{name} must be a string, got {value!r}"
    elif name == "kind" and value not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}, got {value!r}{did_you_mean(value, KINDS)}"
    elif name == "compute_dtype" and value not in BITS:
        return f"compute_dtype must be a number format ({', '.join(BITS)}), got {value!r}"
    elif name == "collective" and value not in ("", *COLLECTIVES):
        return f"collective must be '' or one of {', '.join(COLLECTIVES)}, got {value!r}"
    return None


def _op(index: int, row, names: list[str]) -> Op:
    """Op `index` from its row, every field checked: 'ops[17] (layer3.qkv): <rule>, got <value>'."""
    if not isinstance(row, list) or len(row) != len(names):
        size = f"{len(row)} values" if isinstance(row, list) else f"{row!r}"
        raise ValueError(f"ops[{index}]: {size} for {len(names)} fields")
    values = dict(zip(names, row))
    label = f"ops[{index}]" + (f" ({values['name']})" if isinstance(values.get("name"), str) else "")
    problem = next(filter(None, (_field_problem(index, name, value) for name, value in values.items())), None)
    if problem is None and values["id"] != index:
        problem = f"ids must run 0..n-1 in order, got id {values['id']}"
    if problem is None and values["kind"] in _GEMMS:
        problem = _shape_problem(values)
    if problem:
        raise ValueError(f"{label}: {problem}")
    return Op(**{**values, "deps": tuple(values.get("deps", ())),
                 "seqs": tuple(sorted(map(tuple, values.get("seqs", ()))))})


def _shape_problem(values: dict) -> str | None:
    """What is wrong with a GEMM-like op's shape, or None. Components that time an op by its shape
    (PIM banks, flash pages) still charge its FLOPs and bytes to their resources, so the shape must
    bound them: count x m x n x (2k + 1) FLOPs (the + 1 a bias; causal attention does less) and
    at most 4 bytes per element of the k x n weights or K/V (fp32, plus a bias row)."""
    m, n, k, count = (values.get(d, 1 if d == "count" else 0) for d in ("m", "n", "k", "count"))
    if min(m, n, k) < 1:
        return f"a {values['kind']} needs m, n and k >= 1 (its GEMM shape), got m={m}, n={n}, k={k}"
    if values["flops"] > count * m * n * (2 * k + 1):
        return (f"flops {values['flops']!r} exceed what its shape does: count x m x n x (2k + 1) = "
                f"{count * m * n * (2 * k + 1)}")
    operand = values.get("weight_bytes", 0) + values.get("kv_read_bytes", 0)
    if operand > 4 * count * n * (k + 1):
        return (f"weight_bytes + kv_read_bytes {operand!r} exceed 4 bytes per element of its k x n operand: "
                f"4 x count x n x (k + 1) = {4 * count * n * (k + 1)}")
    return None


def _header_problem(data: dict) -> str | None:
    """What is wrong with the trace's own keys (not its ops), or None."""
    if data["phase"] not in ("prefill", "decode", "mixed"):
        return f"phase must be prefill, decode or mixed (an iteration), got {data['phase']!r}"
    sequences = data.get("sequences")
    if sequences is not None and not (
            isinstance(sequences, list) and sequences
            and all(isinstance(row, list) and len(row) == 3 and all(_is_int(v) and v >= 0 for v in row[:2])
                    and row[0] >= 1 and isinstance(row[2], bool) for row in sequences)):
        return (f"sequences must be null or a non-empty list of [new >= 1, cached >= 0, samples true/false], "
                f"got {sequences!r}")
    if data["phase"] == "mixed" and sequences is None:
        return "a mixed (iteration) trace needs its sequences"
    for name, least in (("batch", 1), ("context", int(data["phase"] == "prefill")), ("seed", 0)):
        value = data.get(name, 0) if name == "seed" else data[name]
        if not _is_int(value) or value < least:
            return f"{name} must be an integer >= {least}, got {value!r}"
    if not isinstance(data["model"], str):
        return f"model must be a string, got {data['model']!r}"
    if not isinstance(data["precision"], dict):
        return f"precision must be a mapping of weights, activations, kv_cache to formats, got {data['precision']!r}"
    if data.get("routing") is not None and not isinstance(data["routing"], dict):
        return f"routing must be a mapping or null, got {data['routing']!r}"
    if not isinstance(data["fields"], list) or not all(isinstance(n, str) for n in data["fields"]):
        return f"fields must be a list of op field names, got {data['fields']!r}"
    if not isinstance(data["ops"], list) or not data["ops"]:
        return "ops must be a non-empty list of op rows"
    return None


def _from_dict(data) -> Trace:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file (no \"format\": \"{FORMAT}\" header)")
    if data.get("version") != VERSION:
        raise ValueError(f"trace format version {data.get('version')!r}; this hwsim reads version {VERSION}")
    problem = _header_problem(data)
    if problem:
        raise ValueError(problem)
    names = data["fields"]
    missing = set(OP_FIELDS) - _OPTIONAL - set(names)
    unknown = set(names) - set(OP_FIELDS)
    if missing or unknown or len(set(names)) != len(names):
        raise ValueError(f"op fields: missing {sorted(missing)}, unknown {sorted(unknown)}, each once")
    ops = tuple(_op(index, row, names) for index, row in enumerate(data["ops"]))
    return Trace(ops, data["model"], data["phase"], data["batch"], data["context"],
                 Precision(**data["precision"]), data.get("seed", 0), data.get("routing"),
                 _sequences(data.get("sequences")))


def _sequences(rows):
    """An iteration's sequences from a file, as tuples (None for a phase's trace)."""
    return None if rows is None else tuple(tuple(row) for row in rows)
