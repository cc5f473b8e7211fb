"""Cambricon-LLM machine files: Table II organisation and the analytic weight-path bound."""
import pytest

from hwsim.engine import Simulator
from hwsim.machine import load_machine


@pytest.mark.parametrize("config, channels, chips, bound_GBps", [("s", 8, 2, 25.48), ("m", 16, 4, 85.91),
                                                                   ("l", 32, 8, 311.62)])
def test_machine_matches_table_ii_and_the_reference_bound(config, channels, chips, bound_GBps):
    flash = load_machine(f"cambricon_llm_{config}").build(Simulator())["flash"]
    g = flash.params.flash
    assert (g.channels, g.chips_per_channel, g.dies_per_chip, g.planes_per_die) == (channels, chips, 2, 2)
    assert (g.page_size, g.t_read, g.channel_bandwidth) == (16384, pytest.approx(30e-6), 1e9)
    # reference/lut_flash.md B1: dies x 16 KB / 30 us + channels x 1 GB/s
    assert flash.weight_path_bandwidth() / 1e9 == pytest.approx(bound_GBps, abs=0.01)


def test_core_energy_is_table_iv_power_times_compute_time_per_page():
    from hwsim.step import simulate
    from hwsim.workload.precision import Precision
    report = simulate("cambricon_llm_s", "opt-6.7b", phase="decode", batch=1, context=128,
                      precision=Precision("int8", "int8", "int8"))
    flash = report.components["flash"]
    per_page = 1935.6e-6 * 16384 / 546.133e6                  # 1935.6 uW x 30 us = 58.1 nJ
    assert per_page == pytest.approx(58.07e-9, rel=1e-3)
    assert flash["core_energy_j"] == pytest.approx(flash["flash_pages"] * per_page, rel=1e-9)
