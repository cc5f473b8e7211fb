"""Llama-2-7B prefill (2048 tokens) and decode (2048 cached) on A100 / H100: hwsim vs GenZ.

hwsim runs the tile-built GPU machines (architectures/nvidia_*_tiles.yaml) and, for reference,
the analytic roofline machines. GenZ (`genz-llm`, a roofline tool) runs its A100_80GB_GPU and
H100_GPU systems on the same inputs (bf16, batch 1, TP 1, efficiency 1) in its own venv:

    python -m venv /tmp/genz_venv && /tmp/genz_venv/bin/pip install genz-llm

The GenZ part is skipped with a message when that venv is absent (override: GENZ_PYTHON=...).
Prints latency per case side by side, wall times, and per-operator time and binding resource
for one transformer layer from both tools.

    python benchmarks/genz_compare.py
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from collections import defaultdict
from pathlib import Path

from hwsim.step import simulate
from hwsim.workload.precision import Precision

GENZ_PYTHON = Path(os.environ.get("GENZ_PYTHON", "/tmp/genz_venv/bin/python"))
CONTEXT = 2048
CASES = {"A100": ("nvidia_a100_80gb_tiles", "nvidia_a100_80gb", "A100_80GB_GPU"),
         "H100": ("nvidia_h100_sxm_tiles", "nvidia_h100_sxm", "H100_GPU")}
PHASES = ("prefill", "decode")

GENZ_SCRIPT = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
from GenZ import prefill_moddeling, decode_moddeling
out = {}
for system in sys.argv[1:]:
    for phase in ("prefill", "decode"):
        start = time.perf_counter()
        if phase == "prefill":
            r = prefill_moddeling(model="llama2_7b", batch_size=1, input_tokens=%(ctx)d,
                                  system_name=system, bits="bf16", tensor_parallel=1)
        else:
            r = decode_moddeling(model="llama2_7b", batch_size=1, input_tokens=%(ctx)d, output_tokens=1,
                                 system_name=system, bits="bf16", tensor_parallel=1)
        wall = time.perf_counter() - start
        df = r["model_df"]
        ops = [(str(row["Op Type"]), float(row["Latency (msec)"]), str(row["Bound"])) for _, row in df.iterrows()
               if row["Op Type"] not in ("Repeat", "EndRepeat")]
        out[system + "/" + phase] = {"latency_ms": float(r["Latency"]), "wall_s": wall, "ops": ops}
print(json.dumps(out))
""" % {"ctx": CONTEXT}


def run_genz() -> dict | None:
    if not GENZ_PYTHON.exists():
        print(f"GenZ skipped: {GENZ_PYTHON} not found. Create it with\n"
              f"  python -m venv /tmp/genz_venv && /tmp/genz_venv/bin/pip install genz-llm\n")
        return None
    systems = [genz for _, _, genz in CASES.values()]
    done = subprocess.run([str(GENZ_PYTHON), "-c", GENZ_SCRIPT, *systems], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_hwsim(machine: str, phase: str):
    start = time.perf_counter()
    report = simulate(machine, "llama2-7b", phase=phase, batch=1, context=CONTEXT,
                      precision=Precision("bf16", "bf16", "bf16"))
    return report, time.perf_counter() - start


def layer_table(report) -> list[tuple[str, float, str]]:
    """(op name, time ms, bound) of layer 0, then the LM head; the whole-step bound totals follow."""
    rows = [(r.name, r.duration_s * 1e3, r.bound) for r in report.ops if r.layer == 0]
    rows += [(r.name, r.duration_s * 1e3, r.bound) for r in report.ops if r.layer == -1 and r.kind == "matmul"]
    return rows


def main() -> None:
    genz = run_genz()
    print(f"Llama-2-7B, bf16, batch 1, {CONTEXT} tokens (prefill) / {CONTEXT} cached (decode step)\n")
    print(f"{'case':<16}{'hwsim tiles':>13}{'hwsim analytic':>16}{'GenZ':>10}{'tiles/GenZ':>12}"
          f"{'wall hwsim':>12}{'wall GenZ':>11}  bound (tiles)")
    details = []
    for gpu, (tiles, analytic, genz_name) in CASES.items():
        for phase in PHASES:
            report, wall = run_hwsim(tiles, phase)
            reference, _ = run_hwsim(analytic, phase)
            g = genz.get(f"{genz_name}/{phase}") if genz else None
            g_ms = f"{g['latency_ms']:.2f}" if g else "-"
            ratio = f"{report.latency_s * 1e3 / g['latency_ms']:.3f}" if g else "-"
            g_wall = f"{g['wall_s']:.2f}s" if g else "-"
            print(f"{gpu + ' ' + phase:<16}{report.latency_s * 1e3:>10.2f} ms{reference.latency_s * 1e3:>13.2f} ms"
                  f"{g_ms:>10}{ratio:>12}{wall:>11.2f}s{g_wall:>11}  {report.bound}")
            details.append((gpu, phase, report, g))
    for gpu, phase, report, g in details:
        print(f"\n{gpu} {phase}: time by binding resource (hwsim tiles): "
              + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in report.time_by("bound").items()))
        print(f"  {'hwsim op (layer 0)':<22}{'ms':>9}  bound")
        for name, ms, bound in layer_table(report):
            print(f"  {name:<22}{ms:>9.4f}  {bound}")
        if g:
            per_type = defaultdict(list)
            for op_type, ms, bound in g["ops"]:
                per_type[op_type].append(f"{ms:.4f} ({bound})")
            print("  GenZ ops (per layer + head): " + "; ".join(f"{t}: {', '.join(v)}" for t, v in per_type.items()))


if __name__ == "__main__":
    main()
