"""Model + step -> operator DAG: `generate_trace(model, phase, batch, context)` for one of today's
phases, `iteration_trace(model, iteration)` for a scheduler iteration mixing prompts, prompt
chunks and decode tokens (``hwsim.workload.iteration``; the phases are its special cases).

Notation: B sequences, T tokens in the step (prefill T = B*C for C prompt tokens per sequence,
decode T = B, an iteration the sum of its sequences' new tokens), H hidden, h query heads, g KV heads,
d head_dim, I FFN width, V vocab.

Ops in execution order (deps are op ids, always earlier):

    embedding                                   one table row per token (+ a position row if learned)
    per layer:
      attn_norm -> attention block -> attn_residual -> ffn_norm -> FFN -> ffn_residual
    final_norm -> lm_head                       only the rows whose logits are needed (one per
                                                sampling sequence)

Attention block, MHA / GQA / MQA: qkv (one fused matmul, n = (h + 2g) d) -> rope (Q and K, if
positional rope; m = T rows of (h + g) d, n = h d of them Q's, which a GPU kernel walks before K's)
-> kv_write -> attn_score -> softmax -> attn_context -> o_proj.
MLA: see `_mla_attention`. FFN, dense: up (n = 2I fused with the gate when gated) -> act ->
down. MoE: router -> topk -> dispatch -> per active expert e: expert{e}.up/.act/.down with
m = tokens routed to e; shared.up/.act/.down (count = shared experts, every token) -> combine.

Counting rules:
- a multiply-add is 2 FLOPs; a matmul (m x k) @ (k x n) is 2mkn, plus mn with a bias.
- Attention per sequence and head: score 2 * qk_dim * pairs, context 2 * v_dim * pairs, where
  pairs = keys = C + 1 (decode) or sum_{i<C} (i + 1) = C (C + 1) / 2 (causal prefill); in general
  n new tokens on c cached: n c + n (n + 1) / 2 (``iteration.Step``). One attention op triple per
  kernel form (``iteration.kernel_form``: the decode sequences, the prompt and chunk sequences; MLA:
  whole prompts, the rest), as a serving engine runs one varlen/paged kernel over all sequences of a
  form: its flops and bytes are the sums over those sequences; its m, k, n give the padded shape
  (longest queries, dim, longest keys) and count = sequences x heads; seqs lists each sequence's
  (queries, keys) for hardware that runs attention sequence by sequence.
- K and V are read once per KV head and sequence (GQA query heads share them):
  kv_read = sum over sequences of keys * (K or V elements per key) in the KV format.
- Vector ops, FLOPs per element: rmsnorm 4, layernorm 7, rope 3, softmax 5, residual add 1,
  activation relu 1 / silu 4 / gelu 8 (+1 for the gated product); norms read their scale
  (and layernorm shift) vectors as weights.
- Every parameter (matrices, biases, norm vectors) is counted in the weight format; activations
  (scores included) in the activation format; the cache in the KV format. Bytes are what each op
  moves if nothing is reused across ops (a mapper that fuses ops may drop the re-reads).
- MoE: router scores cost 5 (softmax) or 4 (sigmoid) + 1 (selection) per token and expert;
  expert ids are 2 bytes; combine costs 2 per routed contribution and 1 per shared expert output.
- No collectives: a single-device step; the mapper adds communication when it splits the model.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from hwsim.workload.iteration import Iteration, Seq, Step
from hwsim.workload.model import ModelSpec, load_model
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision, compute_format, nbytes
from hwsim.workload.routing import RoutingSpec, check_routing, load_stats, route
from hwsim.workload.tracefile import Trace

NORM_FLOPS = {"rmsnorm": 4, "layernorm": 7}
ACTIVATION_FLOPS = {"relu": 1, "silu": 4, "gelu": 8}
SCORE_FLOPS = {"softmax": 5, "sigmoid": 4}
ROPE_FLOPS = 3
SOFTMAX_FLOPS = 5
ID_BYTES = 2          # a routed expert id (uint16)

__all__ = ["generate_trace", "iteration_trace", "expert_ffn", "attention_kernels", "work_key", "Iteration", "Seq", "Trace", "Step"]


class _Builder:
    """Appends ops with sequential ids; knows the precision and the current layer. `shapes`: give
    attention ops their sequences' shapes (``Op.seqs``)."""

    def __init__(self, precision: Precision, shapes: bool = True):
        self.ops: list = []
        self.shapes = shapes
        self.precision = precision
        self.matmul_dtype = precision.matmul
        self.layer = -1

    def act(self, elements) -> float:
        return nbytes(elements, self.precision.activations)

    def emit(self, name, kind, deps, flops=0.0, dtype=None, **fields) -> int:
        op = Op(id=len(self.ops), name=name, kind=kind, layer=self.layer, flops=float(flops),
                compute_dtype=dtype or self.precision.activations, deps=tuple(deps), **fields)
        self.ops.append(op)
        return op.id

    def matmul(self, name, deps, m, k, n, count=1, bias=False, expert=-1) -> int:
        """count x (m x k) @ (k x n), weights [k, n] (+ bias [n]) per product."""
        return self.emit(name, "matmul", deps, count * m * n * (2 * k + bias), self.matmul_dtype,
                         weight_bytes=nbytes(count * n * (k + bias), self.precision.weights),
                         act_in_bytes=self.act(count * m * k), act_out_bytes=self.act(count * m * n),
                         m=m, n=n, k=k, count=count, expert=expert)

    def vector(self, name, kind, deps, elements, flops_per_element, inputs=1, params=0, expert=-1,
               **shape) -> int:
        """An elementwise op over `elements` outputs reading `inputs` operands of that size;
        `shape` (m rows x n columns, count instances) when rows matter (softmax, norms)."""
        return self.emit(name, kind, deps, elements * flops_per_element,
                         weight_bytes=nbytes(params, self.precision.weights),
                         act_in_bytes=self.act(inputs * elements), act_out_bytes=self.act(elements),
                         expert=expert, **shape)

    def norm(self, name, deps, kind, rows, width) -> int:
        params = width * (2 if kind == "layernorm" else 1)
        return self.vector(name, "norm", deps, rows * width, NORM_FLOPS[kind], params=params, m=rows, n=width)

    def kv_write(self, deps, tokens, elements_per_token) -> int:
        elements = tokens * elements_per_token
        return self.emit("kv_write", "kv_write", deps, act_in_bytes=self.act(elements),
                         kv_write_bytes=nbytes(elements, self.precision.kv_cache),
                         m=tokens, n=elements_per_token)

    def attention(self, step: Step, heads, qk_dim, v_dim, k_per_key, v_per_key, cached,
                  q_deps, kv_deps) -> int:
        """attn_score -> softmax -> attn_context; returns the context op.

        K and V (k_per_key / v_per_key elements per key and sequence, shared by all heads) come
        from the KV cache when `cached`, else from activations (decompressed MLA prefill).
        """
        p = self.precision
        fmt = p.kv_cache if cached else p.activations
        dtype = compute_format(p.kv_cache, p.activations) if cached else p.activations
        batch_heads = step.batch * heads
        scores = heads * step.pairs
        k_bytes = nbytes(step.key_total * k_per_key, fmt)
        v_bytes = nbytes(step.key_total * v_per_key, fmt)
        q_bytes = self.act(step.tokens * heads * qk_dim)
        seqs = step.shapes if self.shapes else ()
        score = self.emit("attn_score", "attn_score", q_deps + kv_deps, 2 * qk_dim * scores, dtype,
                          act_in_bytes=q_bytes + (0 if cached else k_bytes),
                          kv_read_bytes=k_bytes if cached else 0.0, act_out_bytes=self.act(scores),
                          m=step.queries, k=qk_dim, n=step.keys, count=batch_heads, seqs=seqs)
        soft = self.vector("softmax", "softmax", [score], scores, SOFTMAX_FLOPS,
                           m=step.queries, n=step.keys, count=batch_heads, seqs=seqs)
        return self.emit("attn_context", "attn_context", [soft] + kv_deps, 2 * v_dim * scores, dtype,
                         act_in_bytes=self.act(scores) + (0 if cached else v_bytes),
                         kv_read_bytes=v_bytes if cached else 0.0,
                         act_out_bytes=self.act(step.tokens * heads * v_dim),
                         m=step.queries, k=step.keys, n=v_dim, count=batch_heads, seqs=seqs)


# ---- blocks --------------------------------------------------------------------------------------

def _gqa_attention(b: _Builder, model: ModelSpec, it: Iteration, x: int) -> int:
    """MHA / GQA / MQA. KV cache per token and layer: 2 g d elements. One attention group per
    distinct sequence shape of the iteration."""
    att, d, T = model.attention, model.head_dim, it.tokens
    h, g = att.heads, att.n_kv_heads
    qkv = b.matmul("qkv", [x], T, model.hidden, (h + 2 * g) * d, bias=att.bias)
    ready = b.vector("rope", "rope", [qkv], T * (h + g) * d, ROPE_FLOPS, m=T, n=h * d) \
        if model.positional == "rope" else qkv
    write = b.kv_write([ready], T, 2 * g * d)
    contexts = _gqa_kernels(b, model, it, [ready], [write])
    return b.matmul("o_proj", contexts, T, h * d, model.hidden, bias=att.bias)


def _gqa_kernels(b: _Builder, model: ModelSpec, it: Iteration, q_deps, kv_deps) -> list[int]:
    """The attention kernels (score, softmax, context) of one layer, one triple per kernel form."""
    d, g = model.head_dim, model.attention.n_kv_heads
    return [b.attention(step, model.attention.heads, d, d, g * d, g * d, True, q_deps, kv_deps)
            for step in it.groups().values()]


def attention_kernels(model: ModelSpec, iteration: Iteration, precision: Precision) -> tuple[Op, ...]:
    """One layer's attention kernel ops of an MHA/GQA/MQA model, as ``iteration_trace`` emits them
    in every layer (without ids or deps): the part of an iteration that depends on its contexts.
    Without the sequences' shapes (``Op.seqs``): the pure-timing components that time these ops
    alone (``hwsim.serving.additive``) read the padded shape and totals, and sorting every
    iteration's shapes would cost the serving loop more than the kernels' timing."""
    if model.attention.kind == "mla":
        raise ValueError(f"{model.name}: attention_kernels covers MHA/GQA/MQA models, not MLA")
    b = _Builder(precision, shapes=False)
    _gqa_kernels(b, model, iteration, [], [])
    return tuple(b.ops)


def _mla_attention(b: _Builder, model: ModelSpec, it: Iteration, x: int) -> int:
    """DeepSeek multi-head latent attention (r = kv_lora_rank, dn / dr / dv = qk_nope / qk_rope /
    v head dims, rq = q_lora_rank).

    Shared by both forms: Q = W_UQ norm(W_DQ x) (or W_Q x without rq), h (dn + dr) per token;
    [c_kv, k_rope] = W_DKV x, r + dr per token; c_kv is normed; rope on the h*dr + dr rope parts.
    The cache holds c_kv and k_rope: (r + dr) elements per token and layer, written in both forms.

    Decompressed (sequences with nothing cached and more than one new token, a whole prompt):
    [K_nope, V] = W_UKV c_kv (kv_b, n = h (dn + dv)); per head and causal pair: score 2 (dn + dr),
    context 2 dv FLOPs; K and V are activations, not cache reads.

    Absorbed (every other sequence: decode tokens and prompt chunks on a cache): W_UK is folded
    into the query, q_lat = q_nope W_UK (h products 1 x dn x r), so every head scores against the
    shared latent cache: score 2 (r + dr) and context 2 r FLOPs per head and key, reading (r + dr)
    and r cache elements per key and sequence; then W_UV lifts each head's r-vector to dv (v_up).
    Both forms touch the same parameters: W_UK + W_UV = h r (dn + dv) elements, so matmul FLOPs
    stay 2 x params x tokens. Biases (attention.bias) go on the projections from x and on o_proj only.
    """
    att, H, T = model.attention, model.hidden, it.tokens
    h, r = att.heads, att.kv_lora_rank
    dn, dr, dv = att.qk_nope_head_dim, att.qk_rope_head_dim, att.v_head_dim
    if att.q_lora_rank:
        q_low = b.matmul("q_a", [x], T, H, att.q_lora_rank, bias=att.bias)
        q_low = b.norm("q_norm", [q_low], model.norm, T, att.q_lora_rank)
        q = b.matmul("q_b", [q_low], T, att.q_lora_rank, h * (dn + dr))
    else:
        q = b.matmul("q_proj", [x], T, H, h * (dn + dr), bias=att.bias)
    kv_low = b.matmul("kv_a", [x], T, H, r + dr, bias=att.bias)
    latent = b.norm("kv_norm", [kv_low], model.norm, T, r)
    rope = b.vector("rope", "rope", [q, kv_low], T * (h + 1) * dr, ROPE_FLOPS)
    write = b.kv_write([latent, rope], T, r + dr)
    groups = it.groups(_whole_prompt)
    whole = [step for prompts, step in groups.items() if prompts]
    absorbed = [step for prompts, step in groups.items() if not prompts]
    heads_out = []
    if whole:
        kv = b.matmul("kv_b", [latent], sum(step.tokens for step in whole), r, h * (dn + dv))
        heads_out += [b.attention(step, h, dn + dr, dv, h * dn + dr, h * dv, False, [rope], [kv])
                      for step in whole]
    if absorbed:
        rows = sum(step.tokens for step in absorbed)
        q_latent = b.matmul("q_absorb", [q], rows, dn, r, count=h)
        contexts = [b.attention(step, h, r + dr, r, r + dr, r, True, [q_latent, rope], [write])
                    for step in absorbed]
        heads_out.append(b.matmul("v_up", contexts, rows, r, dv, count=h))
    return b.matmul("o_proj", heads_out, T, h * dv, H, bias=att.bias)


def _whole_prompt(seq: Seq) -> bool:
    """MLA's kernel forms: whole prompts (decompressed) or not (absorbed)."""
    return seq.cached == 0 and seq.new > 1


def work_key(model: ModelSpec, iteration: Iteration) -> tuple:
    """Everything ``iteration_trace`` takes from `iteration` into its operators: token and sampling
    rows, tokens per sequence (MoE routing), and the attention groups of each kernel form. Two
    iterations with equal keys get the same operators (their headers may differ)."""
    forms = iteration.groups(_whole_prompt) if model.attention.kind == "mla" else {}
    return (iteration.tokens, iteration.logits, iteration.tokens_per_sequence,
            _group_keys(iteration.groups()), _group_keys(forms))


def _group_keys(groups: dict) -> tuple:
    """Each attention group's form, work and sorted shapes: equal for groups whose kernels get the
    same operators, whatever the order of their sequences."""
    return tuple((form, step.work, step.shapes) for form, step in groups.items())


def _ffn(b: _Builder, model: ModelSpec, deps, rows, width, count=1, expert=-1, prefix="ffn") -> int:
    """up (+gate fused) -> activation -> down for `count` FFNs of width `width` on `rows` tokens."""
    ffn, H, gated = model.ffn, model.hidden, int(model.ffn.gated)
    up = b.matmul(f"{prefix}.up", deps, rows, H, width * (1 + gated), count, ffn.bias, expert)
    act = b.vector(f"{prefix}.act", "activation", [up], count * rows * width,
                   ACTIVATION_FLOPS[ffn.activation] + gated, inputs=1 + gated, expert=expert,
                   m=count * rows)
    return b.matmul(f"{prefix}.down", [act], rows, width, H, count, ffn.bias, expert)


def _moe(b: _Builder, model: ModelSpec, x: int, experts: np.ndarray, routed: bool = True) -> int:
    """Router, dispatch, the experts the routing `experts` [tokens, top_k] activates (unless not
    `routed`), combine."""
    moe, H = model.moe, model.hidden
    T, k = experts.shape
    E = moe.routed_experts
    router = b.matmul("router", [x], T, H, E)
    topk = b.emit("topk", "topk", [router], T * E * (SCORE_FLOPS[moe.score] + 1),
                  act_in_bytes=b.act(T * E), act_out_bytes=b.act(T * k) + ID_BYTES * T * k, m=T, n=E)
    dispatch = b.emit("dispatch", "dispatch", [x, topk], act_in_bytes=b.act(T * H),
                      act_out_bytes=b.act(T * k * H), m=T * k, n=H)
    load = np.bincount(experts.ravel(), minlength=E)
    outputs = [_ffn(b, model, [dispatch], int(load[e]), moe.expert_intermediate, expert=int(e),
                    prefix=f"expert{e}") for e in np.flatnonzero(load)] if routed else []
    S = moe.shared_experts
    if S:
        outputs.append(_ffn(b, model, [x], T, moe.shared_width, count=S, expert=-2, prefix="shared"))
    return b.emit("combine", "combine", outputs or [dispatch], T * H * (2 * k + S), act_in_bytes=b.act(T * (k + S) * H),
                  act_out_bytes=b.act(T * H), m=T, n=H)


def expert_ffn(model: ModelSpec, precision: Precision, layer: int, expert: int, rows: int) -> tuple[Op, ...]:
    """Routed expert ``expert``'s up, act and down ops at ``layer`` on ``rows`` tokens, as
    ``iteration_trace`` emits them (ids from 0, up without deps)."""
    b = _Builder(precision)
    b.layer = layer
    _ffn(b, model, [], rows, model.moe.expert_intermediate, expert=expert, prefix=f"expert{expert}")
    return tuple(b.ops)


# ---- the generator -------------------------------------------------------------------------------

def default_precision(model: ModelSpec) -> Precision:
    """Weights as released, activations as the model runs them, KV cache like activations."""
    activations = model.activation_dtype or model.dtype
    return Precision(weights=model.dtype, activations=activations, kv_cache=activations)


def generate_trace(model, phase: str, batch: int, context: int, precision: Precision | None = None,
                   routing: RoutingSpec | np.ndarray | None = None, seed: int = 0) -> Trace:
    """The operator DAG of one step: `iteration_trace` of ``Iteration.of(phase, batch, context)``.

    model: a ModelSpec or a preset name. phase 'prefill': `context` prompt tokens per sequence,
    causal attention, LM head on the last token of each sequence. phase 'decode': one new token
    per sequence with `context` tokens already cached. routing: a RoutingSpec (default uniform),
    or expert ids [moe_layers, tokens, top_k] (e.g. from routing.load_routing); ignored for dense
    models. A RoutingSpec's `reuse` acts between consecutive prompt tokens of a sequence; for
    reuse across decode steps, route all steps at once and slice each step:
    `ids = route(moe, n, batch * steps, spec, seed, tokens_per_sequence=steps)`, then step s
    uses `routing=ids[:, s::steps]`.
    """
    trace = iteration_trace(model, Iteration.of(phase, batch, context), precision, routing, seed)
    return replace(trace, phase=phase, context=context, sequences=None)


def iteration_trace(model, iteration: Iteration, precision: Precision | None = None,
                    routing: RoutingSpec | np.ndarray | None = None, seed: int = 0, *, routed: bool = True) -> Trace:
    """The operator DAG of one scheduler iteration: all sequences' new tokens go through the
    matmuls and vector ops together (token rows sequence-major); attention runs one kernel per
    form (``iteration.kernel_form``); the LM head runs on the sequences that sample (``Seq.logits``).
    The trace's phase and context are ``iteration.phase()`` and ``iteration.context()``.
    ``routed=False`` leaves the routed experts' FFNs out (an expert-parallel plan places them itself,
    from ``expert_ffn``; the routing still shapes the trace's header)."""
    model = model if isinstance(model, ModelSpec) else load_model(model)
    keys = max(seq.new + seq.cached for seq in iteration.seqs)
    if keys > model.max_position:
        raise ValueError(f"{keys} positions exceed {model.name}'s max_position {model.max_position}")
    precision = precision or default_precision(model)
    experts, routing_info = _routing(model, iteration, routing, seed)
    b = _Builder(precision)
    T, H = iteration.tokens, model.hidden
    learned = model.positional == "learned"
    x = b.emit("embedding", "embedding", [], T * H if learned else 0,
               weight_bytes=nbytes(T * H * (1 + learned), precision.weights),
               act_out_bytes=b.act(T * H), m=T, n=H)
    moe_index = 0
    for layer in range(model.layers):
        b.layer = layer
        normed = b.norm("attn_norm", [x], model.norm, T, H)
        if model.attention.kind == "mla":
            attn = _mla_attention(b, model, iteration, normed)
        else:
            attn = _gqa_attention(b, model, iteration, normed)
        x = b.vector("attn_residual", "elementwise", [attn, x], T * H, 1, inputs=2)
        normed = b.norm("ffn_norm", [x], model.norm, T, H)
        if model.is_moe_layer(layer):
            ffn = _moe(b, model, normed, experts[moe_index], routed)
            moe_index += 1
        else:
            ffn = _ffn(b, model, [normed], T, model.ffn.intermediate)
        x = b.vector("ffn_residual", "elementwise", [ffn, x], T * H, 1, inputs=2)
    b.layer = -1
    if iteration.logits:
        last = b.norm("final_norm", [x], model.norm, iteration.logits, H)
        b.matmul("lm_head", [last], iteration.logits, H, model.vocab)
    return Trace(tuple(b.ops), model.name, iteration.phase(), iteration.batch, iteration.context(), precision,
                 seed, routing_info, iteration.seqs)


def _routing(model: ModelSpec, iteration: Iteration, routing, seed):
    """Expert ids [moe_layers, tokens, top_k] and the trace's routing summary (None if dense)."""
    n_layers = sum(model.is_moe_layer(layer) for layer in range(model.layers))
    if not n_layers:
        return None, None
    if isinstance(routing, np.ndarray):
        experts = check_routing(routing, model.moe, n_layers, iteration.tokens)
        about = {"kind": "given"}
    else:
        spec = routing or RoutingSpec()
        experts = route(model.moe, n_layers, iteration.tokens, spec, seed,
                        tokens_per_sequence=iteration.tokens_per_sequence)
        about = spec.model_dump(exclude_unset=True) | {"kind": spec.kind}
    return experts, {**about, **load_stats(experts, model.moe.routed_experts).summary()}
