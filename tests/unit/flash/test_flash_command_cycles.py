"""Cambricon-LLM bus command cost: command/address cycles run at the channel's byte rate.

SSDsim (the simulator arXiv 2409.15654 extended) times a page read as 7 x tWC + tR + bytes x tRC and a
data-in as bytes x tWC: command cycles share the data-in byte clock. Table II's 8-bit 1000 MT/s bus
therefore gives 1 ns per cycle: 7 ns per command (00h, 5 address, 30h), 4 ns per column change.
"""
import numpy as np
import pytest

from hwsim.components.flash.in_flash_compute import kernel_times
from hwsim.components.flash.page_reads import schedule
from hwsim.engine import Simulator
from hwsim.machine import load_machine

CYCLE_PS = 1000          # one byte cycle at 8 bit x 1000 MT/s


@pytest.mark.parametrize("config", ["s", "m", "l"])
def test_commands_are_seven_bus_cycles_and_column_changes_four(config):
    flash = load_machine(f"cambricon_llm_{config}").build(Simulator())["flash"].params
    assert flash.flash.transfer_ps(1) == CYCLE_PS
    assert flash.flash.command_ps == 7 * CYCLE_PS
    assert round(flash.policy.slice_overhead * 1e12) == 4 * CYCLE_PS


def test_flash_only_request_bus_time_is_data_plus_one_command_per_transaction():
    """One read-compute request on one S channel (4 dies, atomic tile 64 x 256): the input broadcast
    (256 B), 4 read-compute commands and 4 result read-outs (64 B each), each with its 7-cycle command:
    263 + 4 x 7 + 4 x 71 = 575 ns, 1.9% of a 30 us tR (section VIII-C: flash-only channel use 2-3%)."""
    p = load_machine("cambricon_llm_s").build(Simulator())["flash"].params
    g = p.flash.model_copy(update={"channels": 1})
    t = kernel_times(g, p.core, p.policy, 64, 256, 1)
    times = schedule(g, t, np.ones((1, 4), np.int64), np.zeros((1, 4, 2), np.int64))
    assert int(times.rc_bus_ps[0]) == (7 + 256) * CYCLE_PS + 4 * 7 * CYCLE_PS + 4 * (7 + 64) * CYCLE_PS == 575_000
    assert int(times.rc_bus_ps[0]) / g.t_read_ps == pytest.approx(0.0192, abs=1e-4)
