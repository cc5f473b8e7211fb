"""Seeded MoE routing traces: which routed experts each token uses in each MoE layer.

`route()` returns expert ids as uint16 `[moe_layers, tokens, top_k]`, top choice first.
Shared experts are always active and never appear here. Generation is numpy plus one numba
selection kernel, seeded and deterministic:

1. per-layer popularity `p_l` (uniform, or Zipf with exponent `s` over a random expert order);
2. inter-layer affinity after ExFlow: a token whose experts at the previous MoE layer were
   `E_prev` draws from `P = lam * mean_{e in E_prev} A_l[e, :] + (1 - lam) * p_l`, where each row
   of `A_l` puts Dirichlet(1) weights on `successors` random experts;
3. Gumbel-top-k on `log P + Gumbel noise` (k experts without replacement, run as the equivalent
   exponential race), under the model's rule: `topk` (distinct experts), `group_limited`
   (DeepSeek-V3: rank groups by the sum of their best two perturbed scores, keep `topk_groups`,
   then top-k inside them) or `one_per_group` (Pangu MoGE: the argmax of each group);
4. temporal reuse: with probability `reuse` a token takes the previous token's expert set
   (same sequence, same layer; Mixtral-style locality). It overrides steps 2-3 for that token.

Routing files (.npz) replay recorded routings: `save_routing` / `load_routing`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import numba
import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveInt, model_validator

from hwsim.config.schema import Strict
from hwsim.workload.model import MoE

FORMAT = "hwsim-routing"
VERSION = 1
# expert choices one step may route (2 GiB of uint16 ids): a larger batch x context is refused
# with an error, not an out-of-memory, also under --allow-overcommit (the KV check is off there)
ROUTED_LIMIT = 2**30
_CHUNK_TOKENS = 8192          # bounds the [tokens, experts] score buffer (8192 x 256 x 4 B = 8 MB)


class RoutingSpec(Strict):
    """How to route tokens: a synthetic distribution or a recorded file."""

    kind: Literal["uniform", "zipf", "affinity", "file"] = "uniform"
    s: NonNegativeFloat = 0.0          # Zipf exponent of per-layer popularity (zipf, affinity)
    lam: float = Field(0.5, ge=0, lt=1)  # affinity weight lambda
    successors: PositiveInt = 2        # nonzeros per row of the affinity matrix A_l
    reuse: float = Field(0.0, ge=0, le=1)  # probability a token reuses its predecessor's experts
    path: Optional[str] = None         # kind: file, a .npz written by save_routing

    @model_validator(mode="after")
    def _fields_fit_kind(self):
        allowed = {"uniform": {"reuse"}, "zipf": {"s", "reuse"}, "file": {"path"},
                   "affinity": {"s", "lam", "successors", "reuse"}}[self.kind] | {"kind"}
        stray = sorted(self.model_fields_set - allowed)
        if stray:
            raise ValueError(f"{', '.join(stray)} do not apply to routing kind '{self.kind}'")
        if self.kind == "file" and self.path is None:
            raise ValueError("routing kind 'file' needs path")
        return self


@dataclass(frozen=True)
class RoutingModel:
    """The distributions a synthetic routing samples from (drawn from the seed, exposed for tests).

    popularity: [moe_layers, experts], rows sum to 1.
    successors, shares: [moe_layers - 1, experts, m], the sparse rows of the affinity matrices
    A_l (layer l -> l + 1): expert e's successors and their weights (summing to 1); None unless
    the routing kind is affinity.
    """

    popularity: np.ndarray
    successors: Optional[np.ndarray] = None
    shares: Optional[np.ndarray] = None

    def affinity(self, layer: int) -> np.ndarray:
        """Dense A_layer [experts, experts]: P(next-layer expert | this-layer expert) of the affinity part."""
        experts = self.popularity.shape[1]
        dense = np.zeros((experts, experts))
        np.put_along_axis(dense, self.successors[layer], self.shares[layer], axis=1)
        return dense


def routing_model(spec: RoutingSpec, experts: int, n_layers: int, seed: int) -> RoutingModel:
    """Draw the per-layer popularity and affinity rows of `spec` (its own seeded stream)."""
    rng = np.random.default_rng([seed, 0])
    weights = np.arange(1, experts + 1, dtype=float) ** -spec.s
    order = np.argsort(rng.random((n_layers, experts)), axis=1)      # random expert ranking per layer
    popularity = weights[order] / weights.sum()
    if spec.kind != "affinity" or n_layers < 2:
        return RoutingModel(popularity)
    m = min(spec.successors, experts)
    successors = np.argsort(rng.random((n_layers - 1, experts, experts)), axis=2)[..., :m]
    shares = rng.dirichlet(np.ones(m), size=(n_layers - 1, experts))
    return RoutingModel(popularity, successors, shares)


def route(moe: MoE, n_moe_layers: int, tokens: int, spec: RoutingSpec | None = None, seed: int = 0,
          *, tokens_per_sequence: int | None = None) -> np.ndarray:
    """Expert ids uint16 [n_moe_layers, tokens, top_k] for `tokens` tokens laid out sequence-major
    (`tokens_per_sequence` each, default all one sequence; only `reuse` looks at the layout).
    Rows are in score order (top choice first), except one_per_group rows, which are in group order."""
    spec = spec or RoutingSpec()
    if n_moe_layers * tokens * moe.top_k > ROUTED_LIMIT:
        raise ValueError(f"routing {tokens} tokens through {n_moe_layers} MoE layers (top-{moe.top_k}) is more "
                         f"than one step simulates ({ROUTED_LIMIT} expert choices); use a smaller batch or context")
    if spec.kind == "file":
        return check_routing(load_routing(spec.path), moe, n_moe_layers, tokens, spec.path)
    model = routing_model(spec, moe.routed_experts, n_moe_layers, seed)
    rng = np.random.default_rng([seed, 1])
    out = np.empty((n_moe_layers, tokens, moe.top_k), dtype=np.uint16)
    for layer in range(n_moe_layers):
        for start in range(0, tokens, _CHUNK_TOKENS):
            rows = slice(start, min(start + _CHUNK_TOKENS, tokens))
            previous = out[layer - 1, rows] if model.successors is not None and layer else None
            weights = _probabilities(model, layer, previous, spec.lam)
            out[layer, rows] = _sample(weights, rows.stop - rows.start, moe, rng)
        if spec.reuse:
            out[layer] = out[layer, _reuse_sources(tokens, tokens_per_sequence or tokens, spec.reuse, rng)]
    return out


def _probabilities(model: RoutingModel, layer: int, previous, lam: float) -> np.ndarray:
    """P per token [tokens, experts] after `previous` experts (affinity), else per layer [experts]."""
    p = model.popularity[layer]
    if previous is None:
        return p
    tokens, k = previous.shape
    experts = p.size
    cells = np.arange(tokens)[:, None, None] * experts + model.successors[layer - 1][previous]
    mix = np.bincount(cells.ravel(), model.shares[layer - 1][previous].ravel(), minlength=tokens * experts)
    return mix.reshape(tokens, experts) * (lam / k) + (1 - lam) * p


_RULES = {"topk": 0, "group_limited": 1, "one_per_group": 2}


def _sample(weights: np.ndarray, tokens: int, moe: MoE, rng) -> np.ndarray:
    """Draw ids [tokens, top_k] without replacement, P proportional to `weights` ([experts] or
    [tokens, experts]), under the model's routing rule."""
    u = rng.random((tokens, moe.routed_experts), dtype=np.float32)
    inverse = (1.0 / np.atleast_2d(weights)).astype(np.float32)
    out = np.empty((tokens, moe.top_k), dtype=np.uint16)
    _select_kernel(u, inverse, _RULES[moe.routing], moe.groups, moe.topk_groups or moe.groups, out)
    return out


@numba.njit(cache=True, fastmath=True)
def _select_kernel(u, inverse, rule, groups, topk_groups, out):  # pragma: no cover - compiled
    """Exponential race (equal to Gumbel-top-k): x = -log(u) / p, the k smallest x win.

    group_limited ranks groups by the product of their two smallest x (the sum of their two
    best Gumbel scores log p + G), keeps `topk_groups`, and races inside them; one_per_group
    takes the smallest x of each group. Rows come out best first (group order for one_per_group).
    float32 and no infinities, so fastmath may vectorise the log.
    """
    tokens, experts = u.shape
    k = out.shape[1]
    size = experts // groups
    x = np.empty(experts, dtype=np.float32)
    allowed = np.ones(experts, dtype=np.bool_)
    group_score = np.empty(groups, dtype=np.float32)
    best = np.empty(k, dtype=np.float32)
    tiny = np.float32(2.0 ** -25)
    for t in range(tokens):
        row = inverse[t if inverse.shape[0] > 1 else 0]
        for e in range(experts):
            x[e] = -np.log(u[t, e] + tiny) * row[e]
        if rule == 2:
            for g in range(groups):
                out[t, g] = g * size + np.argmin(x[g * size:(g + 1) * size])
            continue
        if rule == 1:
            for g in range(groups):
                first = second = np.finfo(np.float32).max
                for e in range(g * size, (g + 1) * size):
                    if x[e] < first:
                        first, second = x[e], first
                    elif x[e] < second:
                        second = x[e]
                group_score[g] = first * (second if size > 1 else 1.0)
            kept = np.argsort(group_score)[:topk_groups]
            allowed[:] = False
            for g in kept:
                allowed[g * size:(g + 1) * size] = True
        filled = 0
        for e in range(experts):
            if not allowed[e] or (filled == k and x[e] >= best[k - 1]):
                continue
            slot = min(filled, k - 1)
            while slot > 0 and best[slot - 1] > x[e]:
                best[slot], out[t, slot] = best[slot - 1], out[t, slot - 1]
                slot -= 1
            best[slot], out[t, slot] = x[e], e
            filled = min(filled + 1, k)


def _reuse_sources(tokens: int, per_sequence: int, reuse: float, rng) -> np.ndarray:
    """For each token, the index whose expert set it takes: itself, or (with probability `reuse`)
    the source of its predecessor. Sequence starts never reuse."""
    index = np.arange(tokens)
    reused = (rng.random(tokens) < reuse) & (index % per_sequence != 0)
    return np.maximum.accumulate(np.where(reused, 0, index))


# ---- constraints and statistics ------------------------------------------------------------------

def violations(experts: np.ndarray, moe: MoE) -> list[str]:
    """What in a routing array breaks the model's routing rule (empty when it is valid)."""
    problems = []
    if experts.size and int(experts.max()) >= moe.routed_experts:
        problems.append(f"expert id {int(experts.max())} >= routed_experts {moe.routed_experts}")
        return problems
    ordered = np.sort(experts, axis=-1)
    if (np.diff(ordered, axis=-1) == 0).any():
        problems.append("a token uses the same expert twice")
    group_of = experts // (moe.routed_experts // moe.groups)
    if moe.routing == "one_per_group" and (np.sort(group_of, axis=-1) != np.arange(moe.groups)).any():
        problems.append("a token does not use exactly one expert per group")
    if moe.routing == "group_limited":
        used = np.zeros(group_of.shape[:-1] + (moe.groups,), dtype=bool)
        np.put_along_axis(used, group_of.astype(np.intp), True, axis=-1)
        if (used.sum(axis=-1) > moe.topk_groups).any():
            problems.append(f"a token uses more than topk_groups={moe.topk_groups} groups")
    return problems


@dataclass(frozen=True)
class LoadStats:
    """Per-layer expert load: counts [layers, experts] of token-expert pairs, and imbalance scores."""

    counts: np.ndarray

    @property
    def max_over_mean(self) -> np.ndarray:
        """Hottest expert's load over an equal split (R&Q's load-imbalance score); 1 is balanced."""
        return self.counts.max(axis=1) / self.counts.mean(axis=1)

    @property
    def gini(self) -> np.ndarray:
        """Gini coefficient of expert loads per layer: 0 equal, -> 1 all on one expert."""
        x = np.sort(self.counts, axis=1).astype(float)
        n = x.shape[1]
        rank = np.arange(1, n + 1)
        return (2 * (x * rank).sum(axis=1) / (n * x.sum(axis=1))) - (n + 1) / n

    def summary(self) -> dict:
        return {"max_over_mean": float(self.max_over_mean.mean()), "gini": float(self.gini.mean()),
                "worst_max_over_mean": float(self.max_over_mean.max())}


def load_stats(experts: np.ndarray, routed_experts: int) -> LoadStats:
    """Token-expert pairs per layer and expert of a routing [layers, tokens, top_k]."""
    layers = experts.shape[0]
    offsets = np.arange(layers, dtype=np.int64)[:, None, None] * routed_experts
    counts = np.bincount((experts + offsets).ravel(), minlength=layers * routed_experts)
    return LoadStats(counts.reshape(layers, routed_experts))


# ---- files ---------------------------------------------------------------------------------------

def save_routing(path, experts: np.ndarray, routed_experts: int, model: str = "") -> None:
    """Write a routing array [moe_layers, tokens, top_k] as a versioned .npz."""
    experts = np.asarray(experts)
    if experts.ndim != 3:
        raise ValueError(f"routing must be [moe_layers, tokens, top_k], got shape {experts.shape}")
    with open(path, "wb") as handle:     # a file handle keeps numpy from appending '.npz'
        np.savez_compressed(handle, format=np.str_(FORMAT), version=np.int64(VERSION),
                            experts=experts.astype(np.uint16), routed_experts=np.int64(routed_experts),
                            model=np.str_(model))


def load_routing(path) -> np.ndarray:
    """Read a routing .npz written by save_routing; clear errors for foreign or newer files."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            fields = dict(data)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a routing file ({exc})") from None
    if str(fields.get("format", "")) != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file (format {fields.get('format')!r})")
    if int(fields["version"]) != VERSION:
        raise ValueError(f"{path}: routing file version {int(fields['version'])}; "
                         f"this hwsim reads version {VERSION}")
    experts = fields.get("experts")
    if experts is None or experts.ndim != 3 or experts.dtype != np.uint16:
        raise ValueError(f"{path}: 'experts' must be uint16 [moe_layers, tokens, top_k]")
    return experts


def check_routing(experts: np.ndarray, moe: MoE, n_moe_layers: int, tokens: int, origin="routing"):
    """Return `experts` if it fits the model and step, else raise a ValueError saying why."""
    expected = (n_moe_layers, tokens, moe.top_k)
    if tuple(experts.shape) != expected:
        raise ValueError(f"{origin}: shape {tuple(experts.shape)} does not match "
                         f"[moe_layers, tokens, top_k] = {list(expected)} of this model and step")
    problems = violations(experts, moe)
    if problems:
        raise ValueError(f"{origin}: violates the model's {moe.routing} routing: {'; '.join(problems)}")
    return experts
