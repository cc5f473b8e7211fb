"""Read-compute pipeline, hardware-aware tiling and the NPU/flash split against closed forms."""
import numpy as np

import pytest

from hwsim.components.flash.in_flash_compute import (NPU, ComputeCore, Policy, die_geometry, die_pages, gemv_time,
                                                     hardware_aware_tile, kernel_times, page_tile, place)
from hwsim.components.flash.page_reads import schedule
from hwsim.components.flash.presets import flash_preset

S = flash_preset("cambricon_llm_s")
CORE = ComputeCore(throughput="546.133MB/s", input_buffer="1KB", output_buffer="1KB", result_bytes=4)
NPU_2TOPS = NPU(rows=16, cols=16, frequency="1GHz", dataflow="ws", macs_per_pe_cycle=4)


def test_hardware_aware_tile_is_the_papers_optimum_for_s():
    assert hardware_aware_tile(S) == (256, 2048)
    # M (16 channels x 8 dies): 256 x 8192 and 512 x 4096 both carry 8192 + 16 x 256 = 12288 bytes per request
    M = flash_preset("cambricon_llm_s", channels=16, chips_per_channel=4)
    assert hardware_aware_tile(M) == (256, 8192)
    assert hardware_aware_tile(flash_preset("cambricon_llm_s", channels=32, chips_per_channel=8)) == (512, 16384)
    assert page_tile(S, (256, 2048), 4096, 4096) == (64, 256)          # 64 rows x 256 columns = 16 KB
    assert page_tile(S, (256, 2048), 4096, 1024) == (128, 128)         # request width clipped to k


def test_read_compute_pipeline_on_one_die_matches_the_closed_form():
    g = flash_preset("cambricon_llm_s", channels=1, chips_per_channel=1, dies_per_chip=1)
    fast = ComputeCore(throughput="2184.533MB/s", input_buffer="1KB", output_buffer="1KB",
                       result_bytes=4)                                    # 4 pages per tR
    t = kernel_times(g, fast, Policy(), 64, 256, 1)
    n = 6
    out = schedule(g, t, np.array([[n]]), np.zeros((1, 1, 2), np.int64))
    # the first request's input, then per page command + tR (later inputs, core and results hide under
    # them), then last compute, result
    assert out.makespan_ps == t.input + n * (t.command + t.read) + t.core + t.result
    assert out.rc_bus_ps[0] == n * (t.input + t.command + t.result)      # one input per request


def test_slow_core_sets_the_period():
    g = flash_preset("cambricon_llm_s", channels=1, chips_per_channel=1, dies_per_chip=1)
    slow = ComputeCore(throughput="273.0665MB/s", input_buffer="1KB", output_buffer="1KB", result_bytes=4)
    t = kernel_times(g, slow, Policy(), 64, 256, 1)
    n = 5
    out = schedule(g, t, np.array([[n]]), np.zeros((1, 1, 2), np.int64))
    assert out.makespan_ps == t.input + t.command + t.read + n * t.core + t.result



def test_a_page_read_waits_for_its_requests_input():
    """Paper's request order (t_rc = tR + input transfer): with one input slot the next input can only
    be broadcast once the core has finished the page before, so nothing overlaps: each page costs
    input + command + tR + compute, and the last result follows."""
    g = flash_preset("cambricon_llm_s", channels=1, chips_per_channel=1, dies_per_chip=1)
    one_slot = ComputeCore(throughput="2184.533MB/s", input_buffer="256B", output_buffer="1KB", result_bytes=4)
    t = kernel_times(g, one_slot, Policy(), 64, 256, 1)
    assert t.input_slots == 1
    n = 4
    out = schedule(g, t, np.array([[n]]), np.zeros((1, 1, 2), np.int64))
    assert out.makespan_ps == n * (t.input + t.command + t.read + t.core) + t.result


def test_without_slice_control_a_die_reads_one_plane_at_a_time():
    """One die, one read-compute page (plane 0) and one NPU page (plane 1). With Slice Control the NPU
    page's command goes first, then the input and the read-compute command, and the two tR overlap:
    2 commands + input + tR + compute + result. Without it the read-compute command waits for the die's
    array (its plane 1 tR) as well: 2 commands + 2 tR + compute + result; the NPU page's data-out
    (whole page, after that command) still ends under the second tR."""
    g = flash_preset("cambricon_llm_s", channels=1, chips_per_channel=1, dies_per_chip=1)
    core = ComputeCore(throughput="546.133MB/s", input_buffer="1KB", output_buffer="1KB", result_bytes=1)
    rc, norm = np.array([[1]]), np.array([[[0, 1]]])
    sliced, whole = Policy(), Policy(read_slicing=False)
    assert die_geometry(g, sliced) is g and not die_geometry(g, whole).multi_plane
    t = kernel_times(g, core, sliced, 64, 256, 1)
    assert schedule(die_geometry(g, sliced), t, rc, norm).makespan_ps == \
        2 * t.command + t.input + t.read + t.core + t.result
    t = kernel_times(g, core, whole, 64, 256, 1)
    out = schedule(die_geometry(g, whole), t, rc, norm)
    assert out.makespan_ps == 2 * t.command + 2 * t.read + t.core + t.result
    assert out.arrivals_ps.tolist() == [2 * t.command + t.read + t.slice]

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


def test_tile_layout_pads_edge_tiles_onto_the_first_channels_and_dies():
    # S: 8 channels x 4 dies, 64 x 256 page tiles; 4096 x 4096 fills 64 row tiles x 16 column tiles exactly
    assert (die_pages(S, 64, 256, 4096, 4096) == 2 * 16).all()
    # 9216 columns = 36 column tiles: channels 0-3 hold 5, channels 4-7 hold 4; 100 rows = 2 row tiles
    pages = die_pages(S, 64, 256, 100, 9216)
    assert pages[:4].tolist() == [[5, 5, 0, 0]] * 4 and pages[4:].tolist() == [[4, 4, 0, 0]] * 4
    assert pages.sum() == 36 * 2                                          # ceil(9216/256) x ceil(100/64)


def test_many_chips_per_channel_leave_dies_without_weights():
    # section VIII-E: 8 channels x 128 chips (256 dies a channel) -> tile 2048 x 16384; a 4096 x 4096
    # matrix clips it to 512 columns a channel, 32 rows a page: 128 row tiles for 256 dies
    g = flash_preset("cambricon_llm_s", chips_per_channel=128)
    assert hardware_aware_tile(g) == (2048, 16384)
    rows, cols = page_tile(g, hardware_aware_tile(g), 4096, 4096)
    pages = die_pages(g, rows, cols, 4096, 4096)
    assert (rows, cols) == (32, 512) and (pages[:, :128] == 1).all() and (pages[:, 128:] == 0).all()


def test_split_keeps_the_global_share_and_each_dies_pages():
    pages = die_pages(S, 64, 256, 100, 9216)
    n_rc, n_norm = place(S, pages, 0.3)
    assert n_rc.sum() == round(0.3 * pages.sum())                         # 22 of 72 pages read-computed
    assert (n_rc + n_norm.sum(axis=2) == pages).all() and (n_norm[:, :, 0] == 0).all()
    assert (np.abs(n_rc - 0.3 * pages) < 1).all()                         # floor or ceil of each die's share
    one_each = np.ones((8, 4), np.int64)                                  # a die with one page sends it whole
    assert place(S, one_each, 0.5)[0].sum() == 16


def test_a_partial_edge_request_costs_a_whole_request():
    # flash only, slow core: each die's time is its page count x core period; 2048 + 1 columns on S
    # need a second column tile on channel 0, which then holds twice the pages of the others
    slow = ComputeCore(throughput="273.0665MB/s", input_buffer="1KB", output_buffer="1KB", result_bytes=1)
    flash_only = Policy(npu_coprocessing=False)
    full = gemv_time(S, slow, NPU_2TOPS, flash_only, 256, 2048, 1, 256 * 2048)
    edge = gemv_time(S, slow, NPU_2TOPS, flash_only, 256, 2048 + 256, 1, 256 * (2048 + 256))
    assert (full.flash_pages, edge.flash_pages) == (32, 36)
    period = S.page_size / 273.0665e6 * 1e12
    assert edge.duration_ps - full.duration_ps == pytest.approx(period, rel=1e-3)


def test_weights_other_than_int8_are_refused():
    with pytest.raises(ValueError, match="INT8 weights"):
        gemv_time(S, CORE, NPU_2TOPS, Policy(), 256, 2048, 1, 2 * 256 * 2048)
