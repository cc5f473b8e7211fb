"""GPU baselines against measured kernels (issue 18), before and after the measured-kernel mechanisms.

`python -m hwsim.validate.gpu_report docs/validation` writes, into that folder:
- gpu_kernels.md: per GPU machine and Vidur operator, median and p90 |error| with the machines'
  datasheet rooflines (their `gemm`, `rows` and memory `efficiency` keys removed) and as shipped; per message size,
  the signed error of the NVLink collectives with datasheet links and as shipped;
- vidur_parity.png and vidur_parity_datasheet.png: measured against simulated operator times.

"Datasheet links": DGX A100 as its 300 GB/s NVLink3 port with the packetisation and 8.92 us latency of
hwsim's nvlink3_a100 preset (LLMCompass's NVLink3 figures), H100 as nvlink4_h100 without `sustained`;
neither with NCCL's `protocols`.
"""
from __future__ import annotations

import sys
from pathlib import Path

from hwsim.validate import vidur
from hwsim.validate.checks import collectives, operators


def _datasheet_fabrics() -> dict:
    from hwsim.components.interconnect.presets import link_preset
    nvlink3 = link_preset("nvlink3_a100").model_dump(mode="json", exclude_none=True)
    a100_name, a100 = collectives.fabric_entry(collectives.MACHINES["a100_dgx"])
    h100_name, h100 = collectives.fabric_entry(collectives.MACHINES["h100_dgx"])
    port = {**nvlink3, "bandwidth": "300GB/s", "source": "A100 datasheet 600 GB/s bidirectional per GPU; "
                                                     "nvlink3_a100 latency and packetisation"}
    h100_link = link_preset(h100["link"]).model_dump(mode="json", exclude_none=True, exclude={"sustained"})
    return {"a100_dgx": (a100_name, {**a100, "link": port, "protocols": None}),
            "h100_dgx": (h100_name, {**h100, "link": h100_link, "protocols": None})}


def operator_table() -> str:
    before = operators.error_table(operators.comparisons(datasheet=True))
    after = operators.error_table(operators.comparisons())
    lines = ["| machine | operator | cases | median before | median after | p90 before | p90 after |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for (machine, name), (median, p90, cases) in sorted(after.items()):
        old_median, old_p90, _ = before[(machine, name)]
        lines.append(f"| {machine} | {name} | {cases} | {old_median:.1%} | {median:.1%} | {old_p90:.1%} | {p90:.1%} |")
    return "\n".join(lines)


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    operators.parity_plot(folder / "vidur_parity.png")
    operators.parity_plot(folder / "vidur_parity_datasheet.png", operators.comparisons(datasheet=True))
    text = (f"# GPU baselines against measured kernels (Vidur profiles)\n\n"
            f"Made by `python -m hwsim.validate.gpu_report {folder}`. Targets: {vidur.TABLE.name} and "
            f"{vidur.COLLECTIVES.name}, plus {collectives.NCCL_TESTS.name} for the collectives' sizes beyond "
            f"Vidur's 2 KB .. 64 MB (hwsim/validate/data/, with their sources).\n\n"
            f"## Operators: \\|simulated / measured - 1\\|, datasheet roofline -> as shipped\n\n{operator_table()}\n\n"
            f"## Collectives: simulated / measured - 1 per message size, datasheet links\n\n```\n"
            f"{collectives.size_table(collectives.all_comparisons(_datasheet_fabrics()))}\n```\n\n"
            f"## Collectives, as shipped (measured link rates)\n\n```\n"
            f"{collectives.size_table(collectives.all_comparisons())}\n```\n")
    (folder / "gpu_kernels.md").write_text(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
