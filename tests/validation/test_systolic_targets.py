"""Systolic GEMM compute cycles vs SCALE-Sim v3 (targets.yaml `systolic_gemm`)."""
from pathlib import Path

import pytest
import yaml

from hwsim.components.npu.systolic import SystolicArray

TARGETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "validation" / "targets.yaml"


def systolic_cases():
    if not TARGETS.exists():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=f"validation targets not found at {TARGETS}"))]
    section = yaml.safe_load(TARGETS.read_text())["systolic_gemm"]
    tolerance = section["tolerance"]["cycles_abs"]
    return [pytest.param(case, tolerance, id=f"{case['M']}x{case['N']}x{case['K']}-{case['rows']}x{case['cols']}-"
                         f"{case['dataflow']}") for case in section["cases"]]


@pytest.mark.parametrize("case, tolerance", systolic_cases())
def test_systolic_gemm_matches_scalesim(case, tolerance):
    array = SystolicArray(case["rows"], case["cols"], case["dataflow"])
    cycles = array.scalesim_cycles(case["M"], case["N"], case["K"])
    assert abs(cycles - case["cycles"]) <= tolerance, f"model {cycles}, SCALE-Sim {case['cycles']}"
