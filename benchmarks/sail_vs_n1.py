"""SAIL-like vs the Neoverse N1 baseline: Llama-2-7B batch-1 decode at SAIL's integer precisions.

Prints decode latency and tokens/s on neoverse_n1.yaml (Graviton2-class, llama.cpp's q8_0 / q4_0 /
q2_K dot products on the NEON pipes) and sail_n1.yaml (the same CPU plus LUT-GEMV arrays beside its
LLC slices), their ratio, and what bounds the N1 matmuls. SAIL's gem5 core count is not public
(reference/lut_flash.md A1), so the comparison is swept over the N1 core count, the machines'
other figures unchanged (a sensitivity, not a fit); the core count at which the N1 matmuls turn
DRAM-bound is printed per precision. Published: "up to 10.7x" (arXiv 2509.25853).

    python benchmarks/sail_vs_n1.py [--context 1024]
"""
from __future__ import annotations

import argparse
import copy

from hwsim.config.loader import load_document
from hwsim.machine import ARCHITECTURES_DIR, machine_from_dict
from hwsim.step import simulate
from hwsim.workload.precision import Precision

WEIGHTS = ("int2", "int4", "int8")   # int3: llama.cpp q3_K not counted for N1 (default widening only)
CORES = (1, 4, 8, 16, 64)


def with_cores(name: str, cores: int):
    """The shipped machine `name` with `cores` CPU cores."""
    doc = load_document(ARCHITECTURES_DIR / f"{name}.yaml", search_dirs=[ARCHITECTURES_DIR])
    data = copy.deepcopy(doc.data)
    data["components"]["cpu"]["cores"] = cores
    return machine_from_dict(data, doc.source)


def decode(machine, weights: str, context: int):
    return simulate(machine, "llama2-7b", phase="decode", batch=1, context=context,
                    precision=Precision(weights, "int8", "fp16"))


def speedup(cores: int, weights: str, context: int = 1024) -> tuple[float, object, object]:
    """(N1 latency / SAIL latency, N1 report, SAIL report) with `cores` N1 cores on both machines."""
    base = decode(with_cores("neoverse_n1", cores), weights, context)
    lut = decode(with_cores("sail_n1", cores), weights, context)
    return base.latency_s / lut.latency_s, base, lut


def matmul_bound(report) -> str:
    """'compute' or 'memory': what bounds most of the report's matmul time."""
    time = {"compute": 0.0, "memory": 0.0}
    for op in report.ops:
        if op.kind == "matmul":
            time["compute" if op.bound.endswith("compute") else "memory"] += op.duration_s
    return max(time, key=time.get)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--context", type=int, default=1024)
    args = parser.parse_args()
    print(f"Llama-2-7B decode, batch 1, context {args.context}, int8 activations, fp16 KV cache")
    print(f"{'cores':>5} {'weights':>7} {'N1 ms':>8} {'SAIL ms':>8} {'N1 tok/s':>9} {'SAIL tok/s':>10} "
          f"{'speedup':>8}  N1 matmuls")
    for cores in CORES:
        for weights in WEIGHTS:
            ratio, base, lut = speedup(cores, weights, args.context)
            print(f"{cores:>5} {weights:>7} {base.latency_s * 1e3:8.2f} {lut.latency_s * 1e3:8.2f} "
                  f"{1 / base.latency_s:9.2f} {1 / lut.latency_s:10.2f} {ratio:7.2f}x  {matmul_bound(base)}-bound")
    print("published: up to 10.7x over Neoverse-N1 (SAIL abstract; gem5 core count, LLC and DRAM not public);")
    print("N1 DRAM: min(cores x 20.9, 169.6) GB/s (ASCT on Graviton2, neoverse_n1.yaml), SAIL's arrays 169.6 GB/s;")
    print("SAIL's block scales / type conversion are not modeled")


if __name__ == "__main__":
    main()
