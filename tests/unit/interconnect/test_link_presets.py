"""Link timing (latency, bandwidth, overhead, duplex, packetisation) and the shipped presets."""
import pytest

from hwsim.components.interconnect.link import LinkSpec
from hwsim.components.interconnect.network import Network
from hwsim.components.interconnect.presets import link_preset, link_preset_names
from hwsim.config.errors import ConfigError
from hwsim.engine import Simulator

LINK = LinkSpec(source="test", bandwidth="100GB/s", latency="1us", overhead="0.5us")


def test_presets_load_with_sources_and_the_notes_figures():
    expected_bandwidth = {"pcie4_x16": 32e9, "pcie5_x16": 64e9, "nvlink4_h100": 450e9, "nvlink3_a100": 25e9,
                          "nvlink3_a100_port": 300e9,
                          "cxl_x16": 64e9, "ucie_d2d_x16": 64e9, "roce_400g": 50e9, "ub_cloudmatrix384": 392e9}
    assert set(link_preset_names()) == set(expected_bandwidth)
    for name, bandwidth in expected_bandwidth.items():
        spec = link_preset(name)
        assert spec.bandwidth == bandwidth, name
        assert "[" in spec.source, f"{name}: source must carry a [V]/[V2]/[I] tag"
    assert link_preset("nvlink4_h100").latency_ps == 936_250
    assert link_preset("nvlink3_a100").latency_ps == 8_920_000
    # what software measures: nccl#1264 p2p 378 GB/s; nccl-tests#149 busbw 200 GB/s, #331 9.85 us / 4
    assert link_preset("nvlink4_h100").sustained == 378e9
    port = link_preset("nvlink3_a100_port")
    assert port.sustained == 200e9 and port.latency == pytest.approx(9.85e-6 / 4, rel=2e-3)


def test_a_sustained_rate_serialises_payload_without_packetisation():
    link = LinkSpec(source="t", bandwidth="450GB/s", sustained="400GB/s", flit="16B", header="16B",
                    max_payload="256B")
    assert link.wire_bytes(1000) == 1000 and link.rate == 400e9
    assert link.serialisation_ps(4000) == 10_000          # 4000 B at 400 GB/s


def test_unknown_preset_suggests_the_nearest_name():
    with pytest.raises(KeyError, match="did you mean 'nvlink4_h100'"):
        link_preset("nvlink4_h10")


def test_bare_numbers_and_unknown_keys_are_rejected():
    with pytest.raises(Exception, match="unit"):
        LinkSpec(source="t", bandwidth=100)
    with pytest.raises(Exception, match="extra|bandwith"):
        LinkSpec(source="t", bandwidth="1GB/s", bandwith="1GB/s")


def test_isolated_message_costs_alpha_plus_bytes_over_bandwidth():
    nbytes = 2**20                                   # 100 GB/s = 10 ps per byte
    assert LINK.serialisation_ps(nbytes) == 10 * nbytes
    assert LINK.message_ps(nbytes) == 500_000 + 10 * nbytes + 1_000_000
    assert LINK.alpha_ps == 1_500_000


def test_serialisation_rounds_up_to_whole_picoseconds():
    link = LinkSpec(source="t", bandwidth="3GB/s")
    assert link.serialisation_ps(1) == 334          # 333.3 ps rounded up
    assert link.serialisation_ps(3) == 1000


def test_packetisation_counts_headers_and_flit_padding_like_llmcompass():
    nvlink = link_preset("nvlink4_h100").model_copy(update={"sustained": None})   # flit 16, header 16, payload <= 256 B
    # 1000 B = 3 x 256 + 232: 4 packets, 4 header flits, 3 x 16 + ceil(232/16) = 63 payload flits
    assert nvlink.packets(1000) == 4
    assert nvlink.wire_bytes(1000) == (4 + 63) * 16
    assert nvlink.wire_bytes(256) == 256 + 16
    assert nvlink.wire_bytes(1) == 32               # a header flit and a padded payload flit
    assert nvlink.efficiency(2**20) == pytest.approx(256 / 272)


def _two_rank_network(link):
    sim = Simulator()
    net = Network(sim, 2)
    net.connect(0, 1, link)
    return sim, net


def _arrivals(sim, net, sends):
    arrivals = []
    for src, dst, nbytes in sends:
        net.send(src, dst, nbytes, lambda: arrivals.append(sim.now))
    sim.run()
    return sorted(arrivals)


def test_overhead_occupies_the_sender_but_latency_is_pipelined():
    sim, net = _two_rank_network(LINK)
    occupancy = 500_000 + 10 * 1000
    assert _arrivals(sim, net, [(0, 1, 1000), (0, 1, 1000)]) == [occupancy + 1_000_000, 2 * occupancy + 1_000_000]


def test_full_duplex_directions_are_independent_half_duplex_shares_one_channel():
    full = LinkSpec(source="t", bandwidth="100GB/s", latency="1us")
    half = LinkSpec(source="t", bandwidth="100GB/s", latency="1us", duplex="half")
    sends = [(0, 1, 1000), (1, 0, 1000)]
    assert _arrivals(*_two_rank_network(full), sends) == [1_010_000, 1_010_000]
    assert _arrivals(*_two_rank_network(half), sends) == [1_010_000, 1_020_000]


def test_cut_through_over_a_slower_second_hop_is_set_by_the_slow_hop():
    fast = LinkSpec(source="t", bandwidth="100GB/s", latency="100ns", overhead="50ns")
    slow = LinkSpec(source="t", bandwidth="50GB/s", latency="200ns")
    sim = Simulator()
    net = Network(sim, 2)
    hub = net.add_switch()
    net.connect(0, hub, fast)
    net.connect(hub, 1, slow)
    # data leaves at 50 ns, head reaches the second hop at 150 ns, 1000 B take 20 ns there
    assert _arrivals(sim, net, [(0, 1, 1000)]) == [50_000 + 100_000 + 20_000 + 200_000]
    assert net.path_alpha_ps(0, 1) == 350_000


def test_zero_bytes_self_messages_and_missing_nodes():
    sim, net = _two_rank_network(LINK)
    assert _arrivals(sim, net, [(0, 0, 123)]) == [0]
    assert LINK.wire_bytes(0) == 0
    with pytest.raises(ValueError, match="node 5"):
        net.connect(0, 5, LINK)


def test_preset_files_are_strict_config():
    with pytest.raises(ConfigError):
        from hwsim.config.loader import SourceMap
        from hwsim.config.schema import parse
        parse(LinkSpec, {"source": "t", "bandwidth": "1GB/s", "latncy": "1us"}, SourceMap("x.yaml"))
