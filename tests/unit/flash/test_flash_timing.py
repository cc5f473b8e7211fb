"""Flash page-read timing against closed forms (page pipeline, bus and array bounds)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hwsim.components.flash.page_reads import read_pages, striped
from hwsim.components.flash.presets import flash_preset, preset_names

S = flash_preset("cambricon_llm_s")
T, X, C = S.t_read_ps, S.transfer_ps(S.page_size), S.command_ps


def one_die(**overrides):
    return flash_preset("cambricon_llm_s", channels=1, chips_per_channel=1, dies_per_chip=1, **overrides)


def test_presets_cite_sources_and_match_reference_bandwidths():
    for name in preset_names():
        assert flash_preset(name).source
    # reference/lut_flash.md B4 derived bandwidths (channel aggregate / array), GB/s
    assert flash_preset("mqsim_default").channels * flash_preset("mqsim_default").channel_bandwidth == pytest.approx(2.664e9)
    assert flash_preset("mqsim_default").array_bandwidth == pytest.approx(13.98e9, rel=1e-3)
    assert flash_preset("nvmevirt_970pro").array_bandwidth == pytest.approx(14.56e9, rel=1e-3)
    assert S.transfer_ps(S.page_size) == 16_384_000          # 16 KiB at 8 bit x 1000 MT/s


def test_single_page_read_is_command_plus_tR_plus_transfer():
    assert read_pages(S, [5]).makespan_ps == C + T + X == 7_000 + 30_000_000 + 16_384_000


def test_cache_read_hides_the_transfer_behind_the_next_tR():
    n = 7
    one_plane = [0] * n
    assert read_pages(one_die(), one_plane).makespan_ps == n * (C + T) + X
    assert read_pages(one_die(cache_read=False), one_plane).makespan_ps == n * (C + T + X)


def test_planes_read_in_parallel_only_with_multi_plane():
    n = 5
    two_planes = [0, 1] * n
    fast_bus = dict(bus_width_bits=16, command_overhead="0ns")
    x = one_die(**fast_bus).transfer_ps(S.page_size)
    assert read_pages(one_die(**fast_bus), two_planes).makespan_ps == n * T + 2 * x
    assert read_pages(one_die(multi_plane=False, **fast_bus), two_planes).makespan_ps == 2 * n * T + x


def test_long_stream_reaches_the_bus_bound_when_channels_are_the_bottleneck():
    n = 20_000
    r = read_pages(S, striped(S, n))
    per_page = C + X                                             # bus time per page on its channel
    assert r.makespan_ps == pytest.approx(n / S.channels * per_page, rel=2e-3)
    assert np.all(r.bus_busy_ps == n // S.channels * per_page)
    assert n * S.page_size / (r.makespan_ps * 1e-12) <= S.peak_read_bandwidth


def test_long_stream_reaches_the_array_bound_when_dies_are_the_bottleneck():
    g = flash_preset("cambricon_llm_s", channels=2, chips_per_channel=1, bus_width_bits=64, command_overhead="0ns")
    n = 4_000
    r = read_pages(g, striped(g, n))
    assert g.array_bandwidth < g.channels * g.channel_bandwidth
    assert n * g.page_size / (r.makespan_ps * 1e-12) == pytest.approx(g.array_bandwidth, rel=2e-3)


def test_chips_on_a_channel_share_its_bus():
    two_chips = flash_preset("cambricon_llm_s", channels=1, chips_per_channel=2, dies_per_chip=1, planes_per_die=1)
    # one page on each chip, issued together: the second data-out waits for the first
    assert read_pages(two_chips, [0, 1]).makespan_ps == C + T + 2 * X   # second command hides under the first tR


@settings(max_examples=25, deadline=None)
@given(channels=st.integers(1, 3), chips=st.integers(1, 3), dies=st.integers(1, 2), planes=st.integers(1, 2),
       width=st.sampled_from([8, 16, 64]), cache=st.booleans(), multi=st.booleans(), seed=st.integers(0, 99))
def test_no_batch_beats_its_bus_or_array_floor(channels, chips, dies, planes, width, cache, multi, seed):
    g = flash_preset("cambricon_llm_s", channels=channels, chips_per_channel=chips, dies_per_chip=dies,
                     planes_per_die=planes, bus_width_bits=width, cache_read=cache, multi_plane=multi)
    n_planes = channels * chips * dies * planes
    ids = np.random.default_rng(seed).integers(0, n_planes, 60)
    r = read_pages(g, ids)
    per_channel = np.bincount(ids // (chips * dies * planes), minlength=channels)
    per_plane = np.bincount(ids, minlength=n_planes)
    per_die = per_plane.reshape(-1, planes).sum(1)
    floor = max(per_channel.max() * (g.transfer_ps(g.page_size) + g.command_ps),
                per_plane.max() * g.t_read_ps + g.transfer_ps(g.page_size),
                0 if multi else per_die.max() * g.t_read_ps)
    assert r.makespan_ps >= floor
    assert r.arrivals_ps.size == 60 and np.all(np.diff(r.arrivals_ps) >= 0)
