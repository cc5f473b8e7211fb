"""Throughput of a pipeline-parallel plan whose stages are kept busy by requests in flight.

One simulated step carries one micro-batch through all ``pp`` stages: its latency is the token
latency, stage after stage with the hand-offs between them. With ``pp`` micro-batches in flight (a new
one entering stage 0 as the previous moves on), every stage works on a different micro-batch and the
pipeline delivers ``pp`` micro-batches per token latency: throughput = pp x tokens / latency. This is
how CENT counts pipeline throughput (CENT artifact, cent_simulation/run_sim.py load_data_point:
``throughput = 1000 / token_latency * pp``); it assumes stages of equal time (with unequal stages the
slowest one sets the pace, and the figure is an upper bound).
"""
from __future__ import annotations


def pipelined_tokens_per_s(report) -> float:
    """Tokens/s of ``report``'s step with as many micro-batches in flight as its plan has stages (one
    micro-batch, so 1 / latency per sequence, without a plan)."""
    stages = (report.parallel or {}).get("pp", 1)
    return stages * report.tokens / report.latency_s
