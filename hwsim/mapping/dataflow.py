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
intermediates (every other operator's output) stream between the operators as tiles in on-chip
buffers and never reach HBM. The fused operator keeps its operators as ``stages``: the device runs it
as a spatial pipeline of them (``hwsim.components.dataflow.pipeline``: the slowest stage or the HBM
stream, plus the fill), where unfused each operator is a kernel of its own, one after the other.

A layer fuses when the device says its operators stream through the chip at once (``fits``: their
per-tile working set, each stage's output row double-buffered and its off-chip streams, fits the
PMUs, and they are no more than the PCUs), not when its whole intermediate tensors fit in SRAM: a 4k
prefill's attention scores (1 GiB a layer) stream as rows of 8 KiB (a head's scores for one query). A
layer that does not fit runs unfused. Operators outside the layers (embedding, final norm, LM head)
are left as they are.

Under tensor parallelism (the SN40L Node runs its models TP8 over eight sockets, paper section VI-C)
a layer holds every rank's operators and the all-reduces between them. Each rank's operators between
two collectives form one segment, fused as above (one kernel per rank and segment: a Megatron layer
is two, attention and FFN); the collectives stay transfers on the machine's fabric. The paper also
fuses collectives into the kernels (section VII, peer-to-peer streaming); hwsim keeps their time.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hwsim.mapping.host_offload import layer_ends, layer_runs
from hwsim.workload.ops import Op
from hwsim.workload.tracefile import Trace


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
              device=first.device, deps=deps, stages=tuple(run))


def segments(run: list[Op]) -> list[list[Op]]:
    """``run``'s operators in fusable segments: per rank, cut before each operator that waits for a
    collective of the run; collectives are segments of their own (never fused)."""
    collectives = {op.id for op in run if op.kind == "collective"}
    out: list[list[Op]] = []
    open_segment: dict[int, list[Op]] = {}
    for op in run:
        if op.id in collectives:
            out.append([op])
            continue
        if op.device not in open_segment or collectives.intersection(op.deps):
            open_segment[op.device] = []
            out.append(open_segment[op.device])
        open_segment[op.device].append(op)
    return out


def fuse_layers(trace: Trace, fits: Callable[[list[Op]], bool]) -> Trace:
    """``trace`` with every transformer layer's segments (each rank's operators between collectives)
    that ``fits`` (the dataflow device's test) as one ``fused_layer`` operator each; ids stay dense and
    every dep points to an earlier operator (a fused segment takes the place of its last operator)."""
    groups: list[tuple[int, list[Op], bool]] = []          # (position of its last op, ops, fuse)
    position = {op.id: i for i, op in enumerate(trace.ops)}
    for run in layer_runs(trace.ops):
        for segment in (segments(run) if run[0].layer >= 0 else [[op] for op in run]):
            fuse = run[0].layer >= 0 and segment[0].kind != "collective" and fits(segment)
            groups += [(position[segment[-1].id], segment, True)] if fuse else \
                [(position[op.id], [op], False) for op in segment]
    ops: list[Op] = []
    new_id: dict[int, int] = {}
    for _, group, fuse in sorted(groups, key=lambda g: g[0]):
        if fuse:
            inside = {op.id for op in group}
            op = fused(group, len(ops), tuple(sorted({new_id[d] for op in group for d in op.deps if d not in inside})))
        else:
            op = replace(group[0], id=len(ops), deps=tuple(new_id[d] for d in group[0].deps))
        for member in group:
            new_id[member.id] = len(ops)
        ops.append(op)
    return replace(trace, ops=tuple(ops))
