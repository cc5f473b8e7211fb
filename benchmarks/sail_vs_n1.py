"""SAIL-like vs the Neoverse N1 baseline: Llama-2-7B batch-1 decode at SAIL's integer precisions.

Prints decode latency and tokens/s on neoverse_n1.yaml (Graviton2-class, 64 cores) and
sail_n1.yaml (the same CPU plus LUT-GEMV arrays beside its LLC slices), their ratio, and, since
SAIL's gem5 core count is not public, the same comparison with fewer N1 cores (the machines'
other figures unchanged; a sensitivity, not a fit). Published: "up to 10.7x" (arXiv 2509.25853).

    python benchmarks/sail_vs_n1.py [--context 1024]
"""
from __future__ import annotations

import argparse
import copy

from hwsim.config.loader import load_document
from hwsim.machine import ARCHITECTURES_DIR, machine_from_dict
from hwsim.simulate import simulate
from hwsim.workload.precision import Precision

WEIGHTS = ("int2", "int3", "int4", "int8")
CORES = (64, 16, 4, 1)


def with_cores(name: str, cores: int):
    """The shipped machine `name` with `cores` CPU cores."""
    doc = load_document(ARCHITECTURES_DIR / f"{name}.yaml", search_dirs=[ARCHITECTURES_DIR])
    data = copy.deepcopy(doc.data)
    data["components"]["cpu"]["cores"] = cores
    return machine_from_dict(data, doc.source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--context", type=int, default=1024)
    args = parser.parse_args()
    print(f"Llama-2-7B decode, batch 1, context {args.context}, int8 activations, fp16 KV cache")
    print(f"{'cores':>5} {'weights':>7} {'N1 ms':>8} {'SAIL ms':>8} {'N1 tok/s':>9} {'SAIL tok/s':>10} "
          f"{'speedup':>8}  N1 largest floor")
    for cores in CORES:
        n1, sail = with_cores("neoverse_n1", cores), with_cores("sail_n1", cores)
        for weights in WEIGHTS:
            precision = Precision(weights, "int8", "fp16")
            base = simulate(n1, "llama2-7b", phase="decode", batch=1, context=args.context, precision=precision)
            lut = simulate(sail, "llama2-7b", phase="decode", batch=1, context=args.context, precision=precision)
            bound = max(base.resources, key=lambda r: r.floor_s).name
            print(f"{cores:>5} {weights:>7} {base.latency_s * 1e3:8.2f} {lut.latency_s * 1e3:8.2f} "
                  f"{1 / base.latency_s:9.2f} {1 / lut.latency_s:10.2f} {base.latency_s / lut.latency_s:7.2f}x  {bound}")
    print("published: up to 10.7x over Neoverse-N1 (SAIL abstract); per-core DRAM concurrency not modeled")


if __name__ == "__main__":
    main()
