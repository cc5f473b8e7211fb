"""Systolic GEMM compute cycles vs SCALE-Sim v3 (targets.yaml `systolic_gemm`)."""
import pytest

from hwsim.components.npu.systolic import SystolicArray
from hwsim.validate.runner import load_targets


def systolic_cases():
    section = load_targets()["systolic_gemm"]
    tolerance = section["tolerance"]["cycles_abs"]
    return [pytest.param(case, tolerance, id=f"{case['M']}x{case['N']}x{case['K']}-{case['rows']}x{case['cols']}-"
                         f"{case['dataflow']}") for case in section["cases"]]


@pytest.mark.parametrize("case, tolerance", systolic_cases())
def test_systolic_gemm_matches_scalesim(case, tolerance):
    array = SystolicArray(case["rows"], case["cols"], case["dataflow"])
    cycles = array.scalesim_cycles(case["M"], case["N"], case["K"])
    assert abs(cycles - case["cycles"]) <= tolerance, f"model {cycles}, SCALE-Sim {case['cycles']}"
