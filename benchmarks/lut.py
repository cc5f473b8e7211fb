"""LUT machines: T-MAC 2-bit vs 4-bit GEMV latency on M2-Ultra (the published kernels give
0.53-0.59), LUT Tensor Core GPUs vs their Table 1 (BitNet b1.58 3B), and the TeLLMe KV260
decode / TTFT figures. Prints figures; asserts nothing.

    python benchmarks/lut.py
"""
from __future__ import annotations

from hwsim.components.base import build_component
from hwsim.engine import Simulator
from hwsim.machine import load_machine
from hwsim.workload.ops import Op

# (N x K, 4-bit ms, 2-bit ms): T-MAC old README, M2-Ultra, 16 threads, GEMV (reference/lut_flash.md A2)
TMAC_KERNELS = [((12288, 4096), 0.059, 0.031), ((4096, 4096), 0.022, 0.013),
                ((11008, 4096), 0.053, 0.029), ((4096, 11008), 0.052, 0.028)]


def gemv_latency_s(machine_name: str, n: int, k: int, bits: int) -> float:
    """Latency of one batch-1 GEMV with `bits`-bit weights on the machine's gemm component."""
    machine = load_machine(machine_name)
    sim = Simulator()
    component_name = machine.spec.mapping.gemm or machine.spec.mapping.default
    component = build_component(component_name, machine.spec.components[component_name], machine.source,
                                ("components", component_name), sim)
    op = Op(0, "gemv", "matmul", 0, 2.0 * n * k, "int8", weight_bytes=n * k * bits / 8,
            act_in_bytes=k, act_out_bytes=2 * n, m=1, n=n, k=k)
    finished = []
    component.submit(op, lambda op, run: finished.append(run))
    sim.run()
    return (finished[0].end_ps - finished[0].start_ps) * 1e-12


# LUT Tensor Core Table 1, BitNet b1.58 3B: machine, precision, (BS1 SEQ2048 ms, BS1024 SEQ1 ms)
LUT_TC_TABLE_1 = [("nvidia_a100_80gb", ("int8", "int8"), (67.06, 21.70)),
                  ("lut_tensor_core_a100", ("int2", "int8"), (38.02, 7.47)),
                  ("lut_tensor_core_h100_4x", ("int2", "fp8"), (28.70, 9.90)),
                  ("lut_tensor_core_h100", ("int2", "fp8"), (23.48, 5.97))]


def lut_tensor_core_side_by_side() -> None:
    from hwsim.step import simulate
    from hwsim.workload.precision import Precision
    print("LUT Tensor Core, BitNet 3B      hwsim ms: BS1 SEQ2048  BS1024 SEQ1 | published: BS1 SEQ2048  BS1024 SEQ1")
    for machine, (weights, acts), (pub_prefill, pub_decode) in LUT_TC_TABLE_1:
        precision = Precision(weights, acts, "fp16")
        prefill = simulate(machine, "bitnet-b1.58-3b", phase="prefill", batch=1, context=2048,
                           precision=precision).latency_s * 1e3
        decode = simulate(machine, "bitnet-b1.58-3b", phase="decode", batch=1024, context=1,
                          precision=precision).latency_s * 1e3
        print(f"  {machine:<28} {prefill:19.2f} {decode:12.2f} | {pub_prefill:21.2f} {pub_decode:12.2f}")


def main() -> None:
    print("T-MAC M2-Ultra 16T GEMV      hwsim 4b   2b (us)  ratio | published 4b  2b (us)  ratio")
    for (n, k), pub4, pub2 in TMAC_KERNELS:
        t4, t2 = (gemv_latency_s("tmac_m2ultra", n, k, b) * 1e6 for b in (4, 2))
        print(f"  {n:>5} x {k:<5}             {t4:7.2f} {t2:6.2f}  {t2 / t4:5.3f} |"
              f"        {pub4 * 1e3:5.0f} {pub2 * 1e3:5.0f}    {pub2 / pub4:5.3f}")
    lut_tensor_core_side_by_side()
    from hwsim.validate.runner import run_validation
    run_validation(only=["tellme"])


if __name__ == "__main__":
    main()
