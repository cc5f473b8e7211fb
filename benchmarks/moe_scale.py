"""CPU seconds of one expert-parallel DeepSeek-V3 decode step against the number of NPUs.

The machines are CloudMatrix-Infer's decode (architectures/cloudmatrix384_decode.yaml, one device per
910C) resized to N NPUs: N devices on the Unified Bus, attention DP-N and EP-N, N redundant expert
copies (load_balanced placement); and the paper's whole decode instance, 160 NPUs as 320 dies
(architectures/cloudmatrix384_ep320.yaml). Each runs 96 sequences per NPU at 4,096 cached tokens, the
paper's batch per NPU. Time is this process's CPU time (routing, placement, trace building, the
capacity checks and the event simulation together), which other load on a shared machine disturbs
less than wall time.

    python benchmarks/moe_scale.py [--npus 16 32 64] [--no-ep320] [--per-npu 96] [--context 4096]

Measured 2026-12-07 on the shared 2-core machine (CPU s; the step's numbers did not move):

    NPUs             before   after   step ms   tok/s/NPU
    16                 30.2     7.0    42.596        2254
    32                 31.2     8.9    36.639        2620
    64                 63.3    14.4    33.691        2849
    160 (320 dies)        -    41.7    38.554        2490

"before" is the code this benchmark was added to (every unit built every expert it routed to, each
all-to-all message was its own events); it could not place 256 experts + 64 copies on 320 dies.
"""
import argparse
import time

from hwsim.config.loader import load_document
from hwsim.machine import ARCHITECTURES_DIR, load_machine, machine_from_dict
from hwsim.step import simulate


def resized(npus: int):
    """The shipped decode machine with ``npus`` devices, ranks, replicas and expert copies."""
    data = load_document(ARCHITECTURES_DIR / "cloudmatrix384_decode.yaml", search_dirs=[ARCHITECTURES_DIR]).data
    data["components"]["npu"]["count"] = npus
    data["components"]["ub"]["ranks"] = npus
    data["parallelism"].update(dp=npus, ep=npus, redundant_experts=npus)
    return machine_from_dict(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npus", type=int, nargs="*", default=[16, 32, 64])
    parser.add_argument("--no-ep320", action="store_true", help="leave out the 160-NPU (320-die) instance")
    parser.add_argument("--per-npu", type=int, default=96, help="sequences per NPU")
    parser.add_argument("--context", type=int, default=4096)
    args = parser.parse_args()
    runs = [(f"{npus}", npus, lambda npus=npus: resized(npus)) for npus in args.npus]
    if not args.no_ep320:
        runs.append(("160 (320 dies)", 160, lambda: load_machine("cloudmatrix384_ep320")))
    print(f"{'NPUs':>15} {'batch':>6} {'CPU s':>8} {'step ms':>9} {'tok/s/NPU':>10}")
    for label, npus, machine in runs:
        batch, built = args.per_npu * npus, machine()
        start = time.process_time()
        report = simulate(built, batch=batch, context=args.context)
        cpu = time.process_time() - start
        print(f"{label:>15} {batch:>6} {cpu:>8.1f} {report.latency_s * 1e3:>9.3f} "
              f"{batch / report.latency_s / npus:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
