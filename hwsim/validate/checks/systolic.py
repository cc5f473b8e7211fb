"""systolic_gemm: compute cycles of one weight/output-stationary array against SCALE-Sim v3."""
from __future__ import annotations

from hwsim.validate.runner import Row, check, within


@check("systolic_gemm")
def systolic_gemm(group: dict) -> list[Row]:
    from hwsim.components.npu.systolic import SystolicArray

    tolerance = group["tolerance"]["cycles_abs"]
    rows = []
    for case in group["cases"]:
        array = SystolicArray(rows=case["rows"], cols=case["cols"], dataflow=case["dataflow"])
        cycles = array.scalesim_cycles(case["M"], case["N"], case["K"])
        rows.append(within(f"GEMM {case['M']}x{case['N']}x{case['K']} on {case['rows']}x{case['cols']} "
                           f"{case['dataflow']}", case["cycles"], cycles, "cycles", case["cycles"] - tolerance,
                           case["cycles"] + tolerance, f"+-{tolerance} cycle"))
    return rows
