"""CPU seconds of one expert-parallel DeepSeek-V3 decode step against the number of NPUs.

The machine is CloudMatrix-Infer's decode (architectures/cloudmatrix384_decode.yaml) resized to N
NPUs: N devices on the Unified Bus, attention DP-N and EP-N, N redundant expert copies
(load_balanced placement) and 96 sequences per NPU at 4,096 cached tokens, the paper's batch per
NPU. Time is this process's CPU time (trace building, routing, placement and the event simulation
together), which other load on a shared machine disturbs less than wall time.

    python benchmarks/moe_scale.py [--npus 16 32 64] [--per-npu 96] [--context 4096]
"""
import argparse
import time

from hwsim.config.loader import load_document
from hwsim.machine import ARCHITECTURES_DIR, machine_from_dict
from hwsim.step import simulate


def resized(npus: int) -> dict:
    """The shipped decode machine's data with ``npus`` devices, ranks, replicas and expert copies."""
    data = load_document(ARCHITECTURES_DIR / "cloudmatrix384_decode.yaml", search_dirs=[ARCHITECTURES_DIR]).data
    data["components"]["npu"]["count"] = npus
    data["components"]["ub"]["ranks"] = npus
    data["parallelism"].update(dp=npus, ep=npus, redundant_experts=npus)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npus", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--per-npu", type=int, default=96, help="sequences per NPU")
    parser.add_argument("--context", type=int, default=4096)
    args = parser.parse_args()
    print(f"{'NPUs':>5} {'batch':>6} {'CPU s':>8} {'step ms':>9} {'tok/s/NPU':>10}")
    for npus in args.npus:
        machine = machine_from_dict(resized(npus))
        batch = args.per_npu * npus
        start = time.process_time()
        report = simulate(machine, batch=batch, context=args.context)
        cpu = time.process_time() - start
        print(f"{npus:>5} {batch:>6} {cpu:>8.1f} {report.latency_s * 1e3:>9.3f} "
              f"{batch / report.latency_s / npus:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
