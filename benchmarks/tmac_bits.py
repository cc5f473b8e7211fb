"""T-MAC 2-bit over 4-bit GEMV latency on M2-Ultra (16 threads): the modeled ratio with and without
the weight scales that the published kernel streams beside its bit planes, and the bit-independent
cost each side implies.

T-MAC's kernel (microsoft/T-MAC@2c8ffd28, the commit of the published table: python/t_mac/ops/
qgemm.py, tools/profile.py) reads one fp16 scale per group of 128 weights of an output row
(group_size 128 by default, scales in out_dtype float16, no zero points at that commit): 16/128 =
0.125 bits per weight whatever the bit width. The table precompute is a separate kernel
("preprocessor") and is not in the published qgemm_lut times (the 4-bit rows equal the int8
qgemm_lut rows of data/m2-ultra/results.csv removed in d414a6d). With the lut_engine's weight load
not overlapped with lookups (tmac_m2ultra.yaml), the scales add scale bytes / bandwidth to each GEMV
(the bandwidth the engine sustains: 311 GB/s, the M2 Ultra CPU's measured copy rate).
If latency = X * bits / 4 + F, a (4-bit, 2-bit) pair gives the bit-independent part F = 2 T2 - T4.

    python benchmarks/tmac_bits.py
"""
from __future__ import annotations

from hwsim.engine import Simulator
from hwsim.machine import load_machine
from hwsim.workload.ops import Op

# (N x K, 4-bit ms, 2-bit ms): T-MAC old README @2c8ffd28, M2-Ultra, 16 threads, GEMV (reference/lut_flash.md A2)
PUBLISHED = [((12288, 4096), 0.059, 0.031), ((4096, 4096), 0.022, 0.013),
             ((11008, 4096), 0.053, 0.029), ((4096, 11008), 0.052, 0.028)]
SCALE_GROUP = 128     # weights per scale (qgemm.py / profile.py default group_size)
SCALE_BITS = 16       # float16 scales (out_dtype)


def gemv(n: int, k: int, bits: int) -> Op:
    """One batch-1 GEMV with `bits`-bit weight codes, int8 activations in, fp16 out."""
    return Op(0, "gemv", "matmul", 0, 2.0 * n * k, "int8", weight_bytes=n * k * bits / 8,
              act_in_bytes=k, act_out_bytes=2 * n, m=1, n=n, k=k)


def engine():
    """The lut_engine of tmac_m2ultra.yaml."""
    return load_machine("tmac_m2ultra").build(Simulator())["cpu"]


def scale_s(lut, n: int, k: int, group: int = SCALE_GROUP, scale_bits: int = SCALE_BITS) -> float:
    """Seconds to stream the weight scales of an n x k matrix (one per `group` weights of a row)."""
    assert not lut.params.overlap_weight_load, "scales add to the load time only when it is not overlapped"
    return n * k / group * scale_bits / 8 / lut.sustained_bandwidth


def latency_s(lut, n: int, k: int, bits: int, scales: bool) -> float:
    """Modeled GEMV latency, with or without the weight scales streamed beside the codes."""
    return lut.time(gemv(n, k, bits)).duration_s + (scale_s(lut, n, k) if scales else 0.0)


def main() -> None:
    lut = engine()
    print("T-MAC M2-Ultra 16T GEMV, 2-bit / 4-bit latency and bit-independent part F = 2 T2 - T4 (us)")
    print(f"{'N x K':>13} | {'codes only':>10} {'F':>5} | {'+fp16 g128 scales':>17} {'F':>5} | "
          f"{'published':>9} {'(rounding)':>13} {'F':>5}")
    for (n, k), pub4, pub2 in PUBLISHED:
        codes = [latency_s(lut, n, k, b, False) * 1e6 for b in (4, 2)]
        scaled = [latency_s(lut, n, k, b, True) * 1e6 for b in (4, 2)]
        t4, t2 = pub4 * 1e3, pub2 * 1e3
        low, high = (t2 - 0.5) / (t4 + 0.5), (t2 + 0.5) / (t4 - 0.5)
        print(f"{n:>6} x {k:<5} | {codes[1] / codes[0]:10.3f} {2 * codes[1] - codes[0]:5.2f} | "
              f"{scaled[1] / scaled[0]:17.3f} {2 * scaled[1] - scaled[0]:5.2f} | "
              f"{t2 / t4:9.3f} {low:6.3f}-{high:.3f} {2 * t2 - t4:5.1f}")
    print("published times are rounded to 1 us; the unmodeled rest of F has no figure in T-MAC's sources")
    print("(thread-pool fork/join over 16 threads is a candidate). Weights stream at the 311 GB/s the M2 Ultra's")
    print("CPU cores measure from DRAM; the published kernels repeat one matrix of 8-25 MB, which may stay in the")
    print("system-level cache (not modeled), so their absolute times are below hwsim's (benchmarks/lut.py)")


if __name__ == "__main__":
    main()
