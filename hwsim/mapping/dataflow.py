"""Streaming dataflow: each decoder layer fused into one kernel whose intermediates stay on chip
(``mapping: {dataflow: rdu}``, ``rdu`` a ``dataflow_device``).

SambaNova's SN40L (arXiv 2405.07518, abstract and Sec. on operator fusion) compiles a whole decoder
layer into one kernel: operators stream tiles to each other through on-chip memory units, so the
activations between them never travel to HBM. hwsim rewrites the trace accordingly: the operators of
one transformer layer (a run of consecutive operators with one ``layer >= 0``, as
``hwsim.mapping.host_offload.layer_runs`` cuts them) become one ``fused_layer`` operator with

    FLOPs        = the sum of the layer's FLOPs
    HBM bytes    = weights + KV cache read and written + the layer's input + the layer's output

where the input is what the layer's entry operators (none of whose inputs come from the layer) read
and the output is what its exit operators (whose outputs no operator of the layer reads) write. The
intermediates (every other operator's output) stay in SRAM, so the fused operator takes
max(FLOPs / peak, HBM bytes / bandwidth): compute and memory traffic overlap across the whole layer,
where unfused each operator pays its own roofline in turn.

A layer fuses when all its intermediates fit in the device's SRAM at once (the sum of the
non-exit operators' outputs <= ``sram``): a conservative rule, since the real compiler streams tiles
and spills only some tensors; a layer that does not fit runs unfused. Operators outside the layers
(embedding, final norm, LM head) are left as they are.
"""
from __future__ import annotations

from dataclasses import replace

from hwsim.mapping.host_offload import layer_ends, layer_runs
from hwsim.workload.ops import Op
from hwsim.workload.tracefile import Trace


def intermediate_bytes(run: list[Op]) -> float:
    """Bytes of the tensors a layer passes between its own operators (non-exit operators' outputs)."""
    exits = {op.id for op in layer_ends(run)}
    return sum(op.act_out_bytes for op in run if op.id not in exits)


def fused(run: list[Op], new_id: int, deps: tuple[int, ...]) -> Op:
    """One ``fused_layer`` operator doing ``run``'s work with only its HBM bytes (module docstring)."""
    inside = {op.id for op in run}
    exits = {op.id for op in layer_ends(run)}
    first = run[0]
    return Op(new_id, f"layer{first.layer}.fused", "fused_layer", first.layer, sum(op.flops for op in run),
              first.compute_dtype,
              weight_bytes=sum(op.weight_bytes for op in run),
              act_in_bytes=sum(op.act_in_bytes for op in run if not inside.intersection(op.deps)),
              act_out_bytes=sum(op.act_out_bytes for op in run if op.id in exits),
              kv_read_bytes=sum(op.kv_read_bytes for op in run),
              kv_write_bytes=sum(op.kv_write_bytes for op in run),
              device=first.device, deps=deps)


def fuse_layers(trace: Trace, sram_bytes: float) -> Trace:
    """``trace`` with every transformer layer whose intermediates fit in ``sram_bytes`` as one
    ``fused_layer`` operator; ids stay dense and every dep points to an earlier operator."""
    ops: list[Op] = []
    new_id: dict[int, int] = {}
    for run in layer_runs(trace.ops):
        if run[0].layer < 0 or intermediate_bytes(run) > sram_bytes:
            for op in run:
                new_id[op.id] = len(ops)
                ops.append(replace(op, id=len(ops), deps=tuple(new_id[d] for d in op.deps)))
            continue
        inside = {op.id for op in run}
        deps = tuple(sorted({new_id[d] for op in run for d in op.deps if d not in inside}))
        for op in run:
            new_id[op.id] = len(ops)
        ops.append(fused(run, len(ops), deps))
    return replace(trace, ops=tuple(ops))
