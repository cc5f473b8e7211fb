"""Same GEMMs through hwsim's systolic model and through SCALE-Sim v3: cycles and wall time.

SCALE-Sim runs in its own venv (it needs numpy < 2):

    python -m venv /tmp/scalesim_venv
    /tmp/scalesim_venv/bin/pip install scalesim "numpy<2" "pandas<2.3" "numba<0.61"

It is skipped with a message when that venv is absent (override: SCALESIM_PYTHON=...).
SCALE-Sim: CALC bandwidth mode (no memory stalls), 64/64/64 KB SRAMs, traces not written;
its 'Total Cycles' (COMPUTE_REPORT.csv) is compared with `SystolicArray.scalesim_cycles`.

    python benchmarks/systolic_vs_scalesim.py            # up to 256^3 (about half a minute)
    python benchmarks/systolic_vs_scalesim.py --full     # adds 512^3 and 1024^3 on 32x32
                                                         # (SCALE-Sim: minutes to tens of minutes, ~3.5 GB)
"""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from hwsim.components.npu.systolic import SystolicArray

SCALESIM_PYTHON = Path(os.environ.get("SCALESIM_PYTHON", "/tmp/scalesim_venv/bin/python"))
CASES = [(64, 64, 64, 32, 32, "ws"), (100, 37, 50, 8, 8, "is"), (256, 256, 256, 32, 32, "os")]
FULL_CASES = [(512, 512, 512, 32, 32, "ws"), (512, 512, 512, 32, 32, "os"), (1024, 1024, 1024, 32, 32, "ws")]

CONFIG = """[general]
run_name = bench
[architecture_presets]
ArrayHeight : {rows}
ArrayWidth : {cols}
IfmapSramSzkB : 64
FilterSramSzkB : 64
OfmapSramSzkB : 64
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Bandwidth : 10
Dataflow : {dataflow}
MemoryBanks : 1
ReadRequestBuffer : 32
WriteRequestBuffer : 32
[layout]
IfmapCustomLayout : False
IfmapSRAMBankBandwidth : 10
IfmapSRAMBankNum : 10
IfmapSRAMBankPort : 2
FilterCustomLayout : False
FilterSRAMBankBandwidth : 10
FilterSRAMBankNum : 10
FilterSRAMBankPort : 2
[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40
[run_presets]
InterfaceBandwidth : CALC
UseRamulatorTrace : False
"""

DRIVER = """
import sys, time, csv, contextlib, io
from scalesim.scale_sim import scalesim
config, topology, layout, out = sys.argv[1:5]
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    sim = scalesim(save_disk_space=True, verbose=False, config=config, topology=topology, layout=layout,
                   input_type_gemm=True)
    sim.run_scale(top_path=out)
wall = time.perf_counter() - start
import glob
report = glob.glob(out + "/**/COMPUTE_REPORT.csv", recursive=True)[0]
rows = list(csv.reader(open(report)))
header = [h.strip() for h in rows[0]]
print(int(float(rows[1][header.index("Total Cycles")])), wall)
"""


def run_scalesim(m, n, k, rows, cols, dataflow) -> tuple[int, float]:
    """(compute cycles, wall s) of one SCALE-Sim run in its venv."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "scale.cfg").write_text(CONFIG.format(rows=rows, cols=cols, dataflow=dataflow))
        (tmp / "gemm.csv").write_text(f"Layer,M,N,K,\ngemm,{m},{n},{k},\n")
        (tmp / "layout.csv").write_text("Layer,a,b,c,d,e,f,g,\ngemm,1,1,1,1,1,1,1,\n")
        done = subprocess.run([str(SCALESIM_PYTHON), "-c", DRIVER, str(tmp / "scale.cfg"), str(tmp / "gemm.csv"),
                               str(tmp / "layout.csv"), str(tmp / "out")], capture_output=True, text=True, check=True)
        cycles, wall = done.stdout.split()[-2:]
        return int(cycles), float(wall)


def run_hwsim(m, n, k, rows, cols, dataflow, repeats: int = 1000) -> tuple[int, float]:
    """(compute cycles, wall s per GEMM, averaged over `repeats` calls) of the closed form."""
    array = SystolicArray(rows, cols, dataflow)
    start = time.perf_counter()
    for _ in range(repeats):
        cycles = array.scalesim_cycles(m, n, k)
    return int(cycles), (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run 512^3 and 1024^3 on 32x32 (slow in SCALE-Sim)")
    cases = CASES + (FULL_CASES if parser.parse_args().full else [])
    have_scalesim = SCALESIM_PYTHON.exists()
    if not have_scalesim:
        print(f"SCALE-Sim skipped: {SCALESIM_PYTHON} not found; create it with the two commands at the top "
              f"of this script.\n")
    print(f"{'GEMM (M,N,K)':<18}{'array':>7}{'df':>4}{'hwsim cycles':>14}{'SCALE-Sim':>12}{'equal':>7}"
          f"{'hwsim wall':>12}{'SCALE-Sim wall':>16}{'speedup':>11}")
    for m, n, k, rows, cols, dataflow in cases:
        cycles, wall = run_hwsim(m, n, k, rows, cols, dataflow)
        if have_scalesim:
            ref_cycles, ref_wall = run_scalesim(m, n, k, rows, cols, dataflow)
            ref = f"{ref_cycles:>12,}{str(ref_cycles == cycles):>7}{wall * 1e6:>10.1f}us{ref_wall:>15.2f}s" \
                  f"{ref_wall / wall:>10.3g}x"
        else:
            ref = f"{'-':>12}{'-':>7}{wall * 1e6:>10.1f}us{'-':>16}{'-':>11}"
        print(f"{f'{m},{n},{k}':<18}{f'{rows}x{cols}':>7}{dataflow:>4}{cycles:>14,}{ref}")


if __name__ == "__main__":
    main()
