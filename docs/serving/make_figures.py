"""Serving figures for docs/serving/ (Llama-2-7B on the A100, ShareGPT-like lengths, Poisson arrivals):

- policies.png: mean E2E latency against served requests/s for static, continuous and chunked
  batching over a range of offered rates (Orca, vLLM: iteration-level batching serves more
  requests/s at equal latency), and p99 TPOT against the rate (Sarathi-Serve: chunked prefill
  lowers the tail of time between tokens under load);
- latency_cdfs.png and kv_batch.png: one run of each policy near the continuous policy's capacity.

    PYTHONPATH=. python docs/serving/make_figures.py
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hwsim.serving.cost import CostModel  # noqa: E402
from hwsim.serving.plots import kv_and_batch, latency_cdfs  # noqa: E402
from hwsim.serving.serve import serve  # noqa: E402

HERE = Path(__file__).parent
PROMPT, OUTPUT = "lognormal:732:0.5616", "lognormal:632:0.2557"     # benchmarks/serving.py
RATES = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
POLICIES = ("static", "continuous", "chunked")


def main() -> None:
    cost = CostModel("nvidia_a100_80gb", "llama2-7b")
    runs = {(policy, rate): serve(cost.machine, cost.model, n=300, rate=rate, prompt=PROMPT, output=OUTPUT,
                                  scheduler=policy, cost=cost, seed=0)
            for policy in POLICIES for rate in RATES}
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for policy in POLICIES:
        summaries = [runs[policy, rate].summary() for rate in RATES]
        left.plot([s["requests_per_s"] for s in summaries], [s["e2e_s"]["mean"] for s in summaries], "o-",
                  label=policy)
        right.plot(RATES, [1e3 * s["tpot_s"]["p99"] for s in summaries], "o-", label=policy)
    left.set(xlabel="served requests/s", ylabel="mean E2E latency (s)", yscale="log")
    right.set(xlabel="offered requests/s", ylabel="p99 TPOT (ms)")
    left.legend()
    figure.suptitle("Llama-2-7B on the A100, ShareGPT-like lengths, 300 Poisson requests per point", fontsize=10)
    figure.tight_layout()
    figure.savefig(HERE / "policies.png", dpi=120)
    latency_cdfs({policy: runs[policy, 2.5] for policy in POLICIES}, HERE / "latency_cdfs.png")
    kv_and_batch(runs["continuous", 2.5], HERE / "kv_batch.png")
    for policy in POLICIES:
        s = runs[policy, 2.5].summary()
        print(f"{policy:<10} at 2.5/s: {s['requests_per_s']:.2f} req/s, mean E2E {s['e2e_s']['mean']:.1f} s, "
              f"p99 TPOT {1e3 * s['tpot_s']['p99']:.1f} ms")


if __name__ == "__main__":
    main()
