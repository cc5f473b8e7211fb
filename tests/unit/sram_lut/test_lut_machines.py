"""LUT machines: their configured tiles reproduce the published peaks (closed forms)."""
import pytest

from hwsim.components.sram_lut.timing import LutUnit
from hwsim.machine import load_machine


def tc_peak_ops(machine_name: str, weight_bits: int) -> float:
    tc = load_machine(machine_name).spec.components["tc"]       # `extends:` already merged
    return 2 * LutUnit(**tc["unit"]).macs_per_cycle(weight_bits) * tc["units"] * 1.41e9


@pytest.mark.parametrize("machine, published_tops", [("lut_tensor_core_a100", 2496),
                                                     ("lut_tensor_core_h100", 3049),
                                                     ("lut_tensor_core_h100_4x", 1525)])
def test_lut_tensor_core_peaks_equal_table_1(machine, published_tops):
    """LUT Tensor Core Table 1 peaks for W_INT2: M2N64K4 tiles x K-groups x tensor cores x 1.41 GHz."""
    assert tc_peak_ops(machine, 2) == pytest.approx(published_tops * 1e12, rel=1e-3)


def test_a100_4x_is_half_the_a100_8x_as_h100_4x_is_half_the_h100_8x():
    """4X = 4 K-groups per cycle: 2 x 64 x 4 x 4 / 2 bits x 2 x 432 x 1.41 GHz = 1248 TOPs (no Table 1 row)."""
    assert tc_peak_ops("lut_tensor_core_a100_4x", 2) == pytest.approx(tc_peak_ops("lut_tensor_core_a100", 2) / 2)
    assert tc_peak_ops("lut_tensor_core_a100_4x", 2) == pytest.approx(2 * 64 * 4 * 4 / 2 * 2 * 432 * 1.41e9)
    assert tc_peak_ops("lut_tensor_core_h100_4x", 2) == pytest.approx(tc_peak_ops("lut_tensor_core_h100", 2) / 2)


def test_tellme_tlmm_peak_is_half_its_datapath_because_of_bank_ports():
    tc = load_machine("tellme_kv260").spec.components["tlmm"]
    unit = LutUnit(**tc["unit"])
    assert unit.issue_cycles == 2
    assert unit.macs_per_cycle(1) == 16 * 28 * 3 / 2
