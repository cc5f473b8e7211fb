"""Group sn40l: the SN40L paper's headline figures beside hwsim's. Switching and footprint rows are
closed forms of the machine's DDR rate and capacity; fusion speeds a prefill up and leaves a
weight-bound decode as it was; a 4k prefill's layers each stream as one kernel."""
import math

import pytest

from hwsim.validate.checks import sn40l
from hwsim.validate.checks.systems import published
from hwsim.validate.runner import SHIPPED_GROUPS, run_group

DDR = 100e9         # B/s per socket (architectures/sn40l.yaml)


def test_switching_an_expert_is_its_share_over_each_sockets_ddr():
    case = published()["sn40l"]["switch_speedup"]
    nbytes = sn40l.weight_bytes("llama2-7b")
    assert sn40l.node_switch_s(case) == pytest.approx(nbytes / (8 * DDR))
    assert sn40l.switch_speedups(case) == pytest.approx({"dgx_h100": 8 * DDR / 64e9, "dgx_a100": 8 * DDR / 32e9})


def test_footprint_is_whole_dgxs_holding_what_the_node_ddr_holds():
    case = published()["sn40l"]["footprint"]
    nbytes = sn40l.weight_bytes("llama2-7b")
    experts = math.floor(1.5 * 2**40 / (nbytes / 8))
    assert sn40l.footprint(case) == math.ceil(experts * nbytes / (8 * 80 * 2**30))


def test_rows_put_each_paper_figure_beside_hwsim_and_say_why_they_differ():
    assert "sn40l" in SHIPPED_GROUPS
    rows = run_group("sn40l", {})
    assert [row.published for row in rows] == [7.5, 7.5, 11, 1, 15, 31, 0.01, 19]
    assert rows[0].simulated == pytest.approx(1, rel=1e-3) and rows[1].simulated > 1.1    # decode, prefill
    assert all("(" in row.target for row in rows)
    assert rows[6].simulated == pytest.approx(sn40l.weight_bytes("llama3-8b") / (16 * DDR))


def test_kernel_calls_count_the_simulated_operators():
    ratio, per_layer = sn40l.kernel_calls(published()["sn40l"]["kernel_calls"])      # 4k prompt tokens
    # llama2-7b unfused: embedding, 32 layers of 14 operators, final norm, LM head; fused: one per layer
    assert (ratio, per_layer) == (pytest.approx((3 + 32 * 14) / (3 + 32)), 1)
