"""Serving speed: requests simulated per second of CPU, iterations, distinct iterations simulated and
the memo hit rate, plus the bucketed mode's error against the exact mode.

Workload: ShareGPT-like lengths, lognormal fits of the ShareGPT-GPT4 sample in serving.md section
2.2 (prompt median 732, mean 857; output median 632, mean 653; sigma = sqrt(2 ln(mean / median))),
Poisson arrivals, continuous batching (vLLM V0 prefill-first).

1. ``a100``: Llama-2-7B on the A100 (the issue's target: 10,000 requests in under 30 s on a 2-core
   machine; measured 23.4 s of CPU); the roofline GPU's iteration cost is split
   (``hwsim.serving.additive``), exact.
2. ``exact-shapes``: the same machine with the split turned off, every distinct trace simulated
   through the event kernel (the path every other machine takes), on fewer requests.
3. ``buckets``: contexts rounded up to 16 / 64 / 256 tokens against the exact mode: relative error
   of mean TTFT, p99 TPOT, mean E2E and the makespan.
4. ``cent``: Llama-2-70B on CENT with 32 devices (CENT's 70B configuration, simulation.sh) with
   256-token buckets (the issue's target: 1,000 requests in under 5 minutes; measured 197-240 s of
   CPU on a shared 2-core machine, 1,476 distinct iterations of 425,443; 97% of the 1.46 M PIM
   stream runs answered by a run of the same stream at the same refresh phase, pim_stream.py).
   Every distinct iteration runs through the command-level PIM model: a decode iteration costs
   ~0.1 s, a prompt's ~0.2 s (every prompt length is distinct, and so are the repeat plans of its
   token-count-shaped streams), so the exact mode, where every iteration is distinct, is out of
   reach there.

    python benchmarks/serving.py [--requests 10000] [--rate 2.5] [--cent-requests 1000]
                                 [--only a100,exact-shapes,buckets,cent]
"""
import argparse
import time

import yaml

from hwsim.components.dram.pim_stream import RepeatPlans
from hwsim.machine import ARCHITECTURES_DIR, machine_from_dict
from hwsim.serving.cost import CostModel
from hwsim.serving.serve import serve

PROMPT, OUTPUT = "lognormal:732:0.5616", "lognormal:632:0.2557"      # ShareGPT-like, see above


def cent32():
    """CENT's machine file with 32 devices (its Llama-2-70B configuration)."""
    data = yaml.safe_load((ARCHITECTURES_DIR / "cent_aim.yaml").read_text())
    data["name"] = "cent-aim-32"
    data["components"]["pim"]["devices"] = 32
    return machine_from_dict(data)


def run(cost: CostModel, n: int, rate: float):
    """(report, CPU seconds) of `n` requests through continuous batching."""
    start = time.process_time()
    report = serve(cost.machine, cost.model, n=n, rate=rate, prompt=PROMPT, output=OUTPUT, cost=cost, seed=0)
    return report, time.process_time() - start


def line(label: str, report, seconds: float, cost: CostModel, n: int) -> None:
    iterations = len(report.timeline.latencies)
    print(f"{label:<28} {n:>6} req {seconds:8.1f} s CPU {n / seconds:8.1f} req/s  {iterations:>7} iterations "
          f"{report.distinct_iterations:>6} distinct  hit rate {cost.hit_rate:6.1%}")


def errors(exact, bucketed) -> str:
    """Relative errors of the bucketed run's headline figures against the exact run's."""
    def rel(a, b):
        return abs(b - a) / a if a else 0.0
    e, b = exact.summary(), bucketed.summary()
    pairs = [("mean TTFT", e["ttft_s"]["mean"], b["ttft_s"]["mean"]),
             ("p99 TPOT", e["tpot_s"]["p99"], b["tpot_s"]["p99"]),
             ("mean E2E", e["e2e_s"]["mean"], b["e2e_s"]["mean"]),
             ("makespan", exact.timeline.end_s, bucketed.timeline.end_s)]
    return ", ".join(f"{name} {rel(a, x):.3%}" for name, a, x in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=2.5, help="requests/s on the A100 (its capacity is ~2.9)")
    parser.add_argument("--cent-requests", type=int, default=1000)
    parser.add_argument("--only", default="a100,exact-shapes,buckets,cent")
    args = parser.parse_args()
    parts = args.only.split(",")
    if "a100" in parts:
        cost = CostModel("nvidia_a100_80gb", "llama2-7b")
        report, seconds = run(cost, args.requests, args.rate)
        line("A100 Llama-2-7B (split)", report, seconds, cost, args.requests)
    if "exact-shapes" in parts:
        cost = CostModel("nvidia_a100_80gb", "llama2-7b", additive=False)
        report, seconds = run(cost, 100, args.rate)
        line("A100 Llama-2-7B (no split)", report, seconds, cost, 100)
    if "buckets" in parts:
        exact, _ = run(CostModel("nvidia_a100_80gb", "llama2-7b"), 1000, args.rate)
        for bucket in (16, 64, 256):
            bucketed, _ = run(CostModel("nvidia_a100_80gb", "llama2-7b", bucket=bucket), 1000, args.rate)
            print(f"bucket {bucket:>4} vs exact (A100, 1000 req): {errors(exact, bucketed)}")
    if "cent" in parts:
        cost = CostModel(cent32(), "llama2-70b", bucket=256)
        before = RepeatPlans.shared_lookups()
        report, seconds = run(cost, args.cent_requests, 0.05)
        line("CENT-32 Llama-2-70B (b256)", report, seconds, cost, args.cent_requests)
        hits, misses = (now - then for now, then in zip(RepeatPlans.shared_lookups(), before))
        print(f"{'':<28} PIM stream runs {hits + misses:>9}, {hits / max(hits + misses, 1):6.1%} answered by "
              f"their remembered result (same stream, repetitions and refresh phase)")


if __name__ == "__main__":
    main()
