"""Does a footprint fit, and if not, what would: the one-line error and the footprint table.

The hints are computed from the overflowing memory's own figures, never guessed:
- a lower weight format: weights and experts scale with bits per element (int8, int4);
- a smaller batch: KV cache and activations scale with the sequences (weights do not);
- a shorter context: the KV cache scales with the tokens per sequence (activations kept as they are);
- more devices: the bytes over the capacity of one such memory, a lower bound for a TP/PP plan.
"""
from __future__ import annotations

import math

from hwsim.capacity.accounting import Footprint, Usage
from hwsim.workload.precision import BITS

LOWER_FORMATS = ("int8", "int4")


class CapacityError(ValueError):
    """A run whose bytes do not fit a memory of the machine (``hwsim run`` prints it as one line)."""


def size(nbytes: float) -> str:
    """Bytes in binary units, as machine files write them ('16GB' is 16 GiB): '13.5 GiB'."""
    for prefix, factor in (("Ti", 2 ** 40), ("Gi", 2 ** 30), ("Mi", 2 ** 20), ("Ki", 2 ** 10)):
        if abs(nbytes) >= factor:
            return f"{nbytes / factor:.3g} {prefix}B"
    return f"{nbytes:.0f} B"


def check_fit(fp: Footprint, allow_overcommit: bool = False) -> bool:
    """True if every memory holds its bytes; otherwise raise CapacityError, or with
    ``allow_overcommit`` return False (the caller flags the report)."""
    if fp.fits:
        return True
    if allow_overcommit:
        return False
    raise CapacityError(overflow_message(fp))


def overflow_message(fp: Footprint) -> str:
    """``<model> does not fit <machine>: <memory> needs ... and has ...; would fit: ...``"""
    u = fp.worst
    return (f"{fp.model} does not fit {fp.machine}: {u.memory} needs {size(u.needs)} ({breakdown(fp, u)}) "
            f"and has {size(u.capacity)}; would fit: {'; '.join(hints(fp, u)) or 'none of int8/int4 weights, a smaller batch or context'}"
            f" (or --allow-overcommit for a what-if)")


def breakdown(fp: Footprint, u: Usage) -> str:
    parts = [f"weights {size(u.weights)} {fp.weight_format}"] if u.weights else []
    if u.experts:
        parts.append(f"experts {size(u.experts)} {fp.weight_format}")
    if u.kv:
        parts.append(f"KV {size(u.kv)} at batch {fp.batch} x {fp.keys} tokens")
    if u.activations:
        parts.append(f"activations {size(u.activations)}")
    if u.reserved:
        parts.append(f"{u.reserved_for} {size(u.reserved)}")
    return ", ".join(parts)


def hints(fp: Footprint, u: Usage) -> list[str]:
    """What would make memory ``u`` fit, each change alone."""
    out = []
    bits = BITS[fp.weight_format]
    rest = u.kv + u.activations + u.reserved
    for fmt in LOWER_FORMATS:
        if BITS[fmt] < bits and (u.weights + u.experts) * BITS[fmt] / bits + rest <= u.capacity:
            out.append(f"{fmt} weights")
            break
    free = u.capacity - u.weights - u.experts - u.reserved
    per_sequence = (u.kv + u.activations) / fp.batch
    if fp.batch > 1 and per_sequence and free >= per_sequence:
        out.append(f"batch <= {math.floor(free / per_sequence)}")
    per_token = u.kv / (fp.batch * fp.keys) if fp.keys else 0.0
    if per_token and free - u.activations >= per_token * fp.batch:
        out.append(f"KV of <= {math.floor((free - u.activations) / (per_token * fp.batch))} tokens per sequence")
    out.append(f"at least {math.ceil(u.needs / u.capacity)} such memories (devices under a TP/PP plan)")
    return out


def table(fp: Footprint) -> list[str]:
    """The footprint lines of the run summary: per component the memory instance that is fullest."""
    best: dict[str, list[Usage]] = {}
    for u in fp.usages:
        best.setdefault(u.memory.split("[")[0] + u.memory.split("]")[-1], []).append(u)
    lines = [f"  memory         footprint per memory (batch {fp.batch} x {fp.keys} KV tokens"
             + ("" if fp.from_model else "; replayed trace: weights as read, a lower bound") + "):"]
    for group in best.values():
        u = max(group, key=lambda x: (x.load, x.needs))
        label = u.memory + (f" (fullest of {len(group)})" if len(group) > 1 else "")
        has = f"of {size(u.capacity)} ({u.load:.0%})" if u.capacity else "(capacity not modeled)"
        lines.append(f"    {label:<28} {size(u.needs):>10} {has}: {breakdown(fp, u) or 'nothing'}")
    return lines
