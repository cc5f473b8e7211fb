"""Read-compute pipeline, hardware-aware tiling and the NPU/flash split against closed forms."""
import numpy as np

from hwsim.components.flash.in_flash_compute import (NPU, ComputeCore, Policy, gemv_time, hardware_aware_tile,
                                                     kernel_times, page_tile)
from hwsim.components.flash.page_reads import schedule
from hwsim.components.flash.presets import flash_preset

S = flash_preset("cambricon_llm_s")
CORE = ComputeCore(throughput="546.133MB/s", input_buffer="1KB", output_buffer="1KB", result_bytes=4)
NPU_2TOPS = NPU(rows=16, cols=16, frequency="1GHz", dataflow="ws", macs_per_pe_cycle=4)


def test_hardware_aware_tile_is_the_papers_optimum_for_s():
    assert hardware_aware_tile(S) == (256, 2048)
    assert page_tile(S, (256, 2048), 4096, 4096) == (64, 256)          # 64 rows x 256 columns = 16 KB
    assert page_tile(S, (256, 2048), 4096, 1024) == (128, 128)         # request width clipped to k


def test_read_compute_pipeline_on_one_die_matches_the_closed_form():
    g = flash_preset("cambricon_llm_s", channels=1, chips_per_channel=1, dies_per_chip=1)
    fast = ComputeCore(throughput="2184.533MB/s", input_buffer="1KB", output_buffer="1KB",
                       result_bytes=4)                                    # 4 pages per tR
    t = kernel_times(g, fast, Policy(), 64, 256, 1)
    n = 6
    out = schedule(g, t, np.array([[n]]), np.zeros((1, 1, 2), np.int64))
    # per page command + tR (input broadcast, core and results hide under them), then last compute, result
    assert out.makespan_ps == n * (t.command + t.read) + t.core + t.result
    assert out.rc_bus_ps[0] == n * (t.input + t.command + t.result)      # one input per request


def test_slow_core_sets_the_period():
    g = flash_preset("cambricon_llm_s", channels=1, chips_per_channel=1, dies_per_chip=1)
    slow = ComputeCore(throughput="273.0665MB/s", input_buffer="1KB", output_buffer="1KB", result_bytes=4)
    t = kernel_times(g, slow, Policy(), 64, 256, 1)
    n = 5
    out = schedule(g, t, np.array([[n]]), np.zeros((1, 1, 2), np.int64))
    assert out.makespan_ps == t.command + t.read + n * t.core + t.result


def gemv(policy=Policy(), g=S):
    return gemv_time(g, CORE, NPU_2TOPS, policy, 16384, 4096, 1, 16384 * 4096)


def test_hybrid_gemv_sits_under_its_weight_path_bound_and_beats_flash_only():
    bound = S.dies * S.page_size / S.t_read + S.channels * S.channel_bandwidth
    hybrid, flash_only = gemv(), gemv(Policy(npu_coprocessing=False))
    bw = 16384 * 4096 / (hybrid.duration_ps * 1e-12)
    assert 0.85 * bound < bw < bound
    assert flash_only.alpha == 1.0 and flash_only.npu_pages == 0
    assert flash_only.duration_ps > 1.3 * hybrid.duration_ps
    flash_bound = S.dies * S.page_size / S.t_read
    assert 16384 * 4096 / (flash_only.duration_ps * 1e-12) < flash_bound


def test_read_slicing_lets_read_compute_traffic_through():
    assert gemv(Policy(read_slicing=False)).duration_ps > gemv().duration_ps
