"""Multicore CPUs built from SIMD cores, a cache hierarchy and DRAM (Xeon, Neoverse baselines).

simd.py  per-core SIMD throughput: multiply-accumulates per pipe per cycle and weight unpacking
memory.py  sustained DRAM bandwidth: the chip's sustained fraction and each core's misses in flight
cpu.py   the `cpu` component machines place operators on
"""
