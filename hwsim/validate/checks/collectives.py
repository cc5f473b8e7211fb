"""collectives: hwsim's NVLink fabrics against NCCL times measured on DGX A100 and DGX H100 (Vidur).

For every entry of hwsim/validate/data/vidur_collectives.csv (all-reduce over 2, 4 or 8 GPUs of one
node, send/recv between two, 2 KB to 64 MB), the same collective runs alone on the link fabric of the
matching 8-GPU NVLink machine: an all-reduce of the buffer (the fabric's algorithm, ring by default)
over ranks 0..p-1, or a `send` of it from rank 0 to rank 1, with the NCCL protocol (LL, LL128, Simple)
that NCCL's own time model picks for the size (the fabrics' `protocols`). Rows (context, INFO: no goal
is set for collectives): the median |simulated / measured - 1| per system, collective and group size.

Why small all-reduces still miss: the measured kernel time of a collective includes waiting for the
other ranks to launch theirs, and the profiles show it. Below 1 MB they are not monotonic in size
(H100, 2 GPUs: 41 us at 67 KB, 8 us at 133 KB, 41 us at 264 KB; A100, 2 GPUs: 46 us at 10 KB, 27 us at
264 KB), and the same 2 KB all-reduce takes 10 us on 2 A100s but 61-62 us on 4 and 8. NCCL's tuning
model (ring LL: 6.6 us + 0.6 us per step, 15 us on 8 GPUs) is the kernel's own cost; the skew between
ranks has no source to model it, so those rows stay 40-80% short.
`python -m hwsim.validate.gpu_report docs/validation` writes the error per message size.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from hwsim.validate import vidur
from hwsim.validate.runner import ERROR_UNIT, Row, check

MACHINES = {"a100_dgx": "dgx_a100_8gpu_nvlink", "h100_dgx": "h100_8gpu_nvlink"}


def fabric_entry(machine_name: str) -> tuple[str, dict]:
    """(name, machine-file entry) of the machine's link fabric."""
    from hwsim.machine import load_machine
    components = load_machine(machine_name).spec.model_dump(mode="json")["components"]
    return next((name, raw) for name, raw in components.items() if raw["type"] == "link_fabric")


def collective_seconds(fabric: tuple[str, dict], collective: str, ranks: int, nbytes: int) -> float:
    """Time (s) of one collective alone on the fabric."""
    from hwsim.components.base import run_alone
    from hwsim.workload.ops import Op
    kind = "all_reduce" if collective == "all_reduce" else "send"
    op = Op(0, collective, "collective", 0, 0.0, "fp16", act_in_bytes=nbytes, act_out_bytes=nbytes,
            device=0, collective=kind, group=ranks)
    (run,), _ = run_alone(*fabric, [op])
    return (run.end_ps - run.start_ps) * 1e-12


def comparisons(fabrics=None) -> list[tuple[vidur.Collective, float]]:
    """(measured entry, simulated s) for every table entry; `fabrics` overrides a system's fabric."""
    fabrics = {**{system: fabric_entry(machine) for system, machine in MACHINES.items()}, **(fabrics or {})}
    return [(m, collective_seconds(fabrics[m.system], m.collective, m.ranks, m.nbytes))
            for m in vidur.load_collectives()]


@check("collectives", shipped=True)
def collectives(group: dict) -> list[Row]:
    errors = defaultdict(list)
    for measured, simulated in comparisons():
        errors[(measured.system, measured.collective, measured.ranks)].append(abs(simulated / measured.seconds - 1))
    return [Row(f"vidur {system} {collective} {ranks} GPUs on {MACHINES[system]} ({len(e)} sizes) median",
                0.0, float(np.median(e)), ERROR_UNIT, True, "context", info=True,
                cell=(f"{collective} {ranks} GPUs", f"{MACHINES[system]} median"))
            for (system, collective, ranks), e in errors.items()]


def size_table(pairs) -> str:
    """Signed error per message size, one column per (system, collective, ranks)."""
    columns = sorted({(m.system, m.collective, m.ranks) for m, _ in pairs})
    cells = {(m.system, m.collective, m.ranks, 1 << round(np.log2(m.nbytes))): s / m.seconds - 1 for m, s in pairs}
    lines = ["bytes     " + " ".join(f"{s[:4]}-{c[:4]}-{r:<3}" for s, c, r in columns)]
    for size in sorted({key[3] for key in cells}):
        lines.append(f"{size:<9} " + " ".join(
            f"{cells[(*column, size)]:>+13.0%}" if (*column, size) in cells else f"{'':>13}" for column in columns))
    return "\n".join(lines)

