"""A decode step with multi-token prediction (MTP) speculative decoding, DeepSeek-V3's way.

DeepSeek-V3 (arXiv 2412.19437, section 2.2 and 5.4.3) ships one MTP module: a projection of
[hidden state; next token's embedding], one more Transformer block (an MoE block, like layers 3-60)
and the main model's shared embedding and output head. Served with it (CloudMatrix-Infer, arXiv
2506.12708 section 4, "MTP"), each decode step

1. verifies: the main model runs every sequence's last token plus its ``drafts`` drafted tokens
   (one iteration of ``1 + drafts`` new tokens per sequence on top of the cached context), and
2. drafts: the module runs ``drafts`` times, one new token per sequence each, to propose the next
   step's tokens (modeled as a one-layer MoE model with the main model's embedding and head).

A draft is kept only if every draft before it was, so with a per-token acceptance rate ``a`` a step
emits ``1 + a + ... + a^drafts`` tokens per sequence (Leviathan et al., arXiv 2211.17192, eq. 1;
with one draft and CloudMatrix-Infer's 70% acceptance, 1.7 tokens per step).

Left out, with why: the module's projection matrix (7168 x 14336, 0.1 GB in INT8, 32 us a step
at 3.2 TB/s against a step of tens of ms, below 0.1%) and sampling/acceptance checks (on the NPU,
elementwise over the batch's logits rows, which the head already produces).
"""
from __future__ import annotations

from dataclasses import dataclass

from hwsim.workload.iteration import Iteration, Seq
from hwsim.workload.model import ModelSpec


@dataclass(frozen=True)
class MtpStep:
    """One speculative decode step: the verify pass, the draft passes and the tokens it emits."""

    verify_s: float           # main model over 1 + drafts new tokens per sequence
    draft_s: float            # all draft passes of the MTP module
    tokens_per_sequence: float

    @property
    def latency_s(self) -> float:
        return self.verify_s + self.draft_s


def accepted_tokens(acceptance: float, drafts: int) -> float:
    """Expected tokens a sequence emits per step: the verified token plus each draft kept only
    when all earlier drafts were (a geometric sum)."""
    if not 0.0 <= acceptance <= 1.0 or drafts < 1:
        raise ValueError(f"MTP needs 0 <= acceptance <= 1 and drafts >= 1, got {acceptance}, {drafts}")
    return sum(acceptance ** i for i in range(drafts + 1))


def mtp_module(model: ModelSpec) -> ModelSpec:
    """The MTP module as a model: one MoE Transformer block with ``model``'s embedding and head."""
    if model.moe is None:
        raise ValueError(f"{model.name}: the MTP module modeled here is DeepSeek-V3's, an MoE block")
    data = model.model_dump()
    data.update(name=f"{model.name}-mtp", layers=1, moe={**data["moe"], "dense_layers": []})
    return ModelSpec.model_validate(data)


def mtp_step(machine, model: ModelSpec, batch: int, context: int, *, acceptance: float, drafts: int = 1,
             precision=None, seed: int = 0) -> MtpStep:
    """Simulate one MTP decode step of ``batch`` sequences at ``context`` cached tokens on ``machine``."""
    from hwsim.step import simulate_iteration
    tokens = accepted_tokens(acceptance, drafts)
    precision = precision or machine.precision_for(model)
    verify = simulate_iteration(machine, model, Iteration((Seq(1 + drafts, context),) * batch), precision, seed=seed)
    draft = simulate_iteration(machine, mtp_module(model), Iteration.of("decode", batch, context), precision,
                               seed=seed)
    return MtpStep(verify.latency_s, drafts * draft.latency_s, tokens)
