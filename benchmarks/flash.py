"""Flash model speed: wall time of one Llama2-70B INT8 decode token on Cambricon-LLM-L (goal < 5 s)
and page reads the channel kernel schedules per second (one channel, no reuse of identical channels)."""
import time

import numpy as np

from hwsim.components.flash.channel_kernel import simulate_channel
from hwsim.components.flash.page_reads import KernelTimes
from hwsim.components.flash.presets import flash_preset
from hwsim.simulate import simulate
from hwsim.workload.precision import Precision


def kernel_pages_per_s(pages_per_plane: int = 20_000) -> float:
    g = flash_preset("cambricon_llm_s", chips_per_channel=8)          # 16 dies x 2 planes on one channel
    t = KernelTimes.page_reads(g)
    n_norm = np.full((g.dies_per_channel, g.planes_per_die), pages_per_plane, np.int64)
    n_rc = np.zeros(g.dies_per_channel, np.int64)
    run = lambda: simulate_channel(n_rc, n_norm, t.command, t.read, 0, 0, 0, t.slice, 1, True, True, 1)  # noqa: E731
    run()                                                              # compile / load the cache
    start = time.perf_counter()
    run()
    return n_norm.sum() / (time.perf_counter() - start)


def main():
    int8 = Precision("int8", "int8", "int8")
    simulate("cambricon_llm_s", "opt-6.7b", phase="decode", batch=1, context=128, precision=int8)   # warm up
    start = time.perf_counter()
    report = simulate("cambricon_llm_l", "llama2-70b", phase="decode", batch=1, context=1024, precision=int8)
    wall = time.perf_counter() - start
    flash = report.components["flash"]
    pages = flash["flash_pages"] + flash["npu_pages"]
    print(f"llama2-70b decode on cambricon-llm-l: {wall:.2f} s wall, {report.tokens_per_s:.2f} tok/s simulated, "
          f"{pages:,} pages ({pages / wall:,.0f} pages/s with per-shape and per-channel reuse)")
    print(f"channel kernel alone: {kernel_pages_per_s():,.0f} page reads/s (16 dies x 2 planes, 1 channel)")


if __name__ == "__main__":
    main()
