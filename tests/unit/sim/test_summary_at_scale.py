"""A machine of many identical devices prints one line per resource kind (min, mean, max utilisation
and the worst device); report.json and ops.csv keep every device."""
import csv
import json
import re

import pytest

from hwsim.report.export import write_json, write_ops_csv
from hwsim.step import simulate
from hwsim.workload.precision import Precision

BF16 = Precision("bf16", "bf16", "bf16")


@pytest.mark.parametrize("machine, model, batch, devices, kind", [
    ("h100_8gpu_nvlink", "mixtral-8x7b", 8, 8, "gpu"),
    ("cloudmatrix384_slice32", "deepseek-v2-lite", 32, 32, "npu"),
])
def test_identical_devices_print_one_line_per_resource(tmp_path, machine, model, batch, devices, kind):
    report = simulate(machine, model, batch=batch, context=256, precision=BF16)
    text = report.summary()
    table = text.split("  resources:\n")[1].split("  operator time")[0].splitlines()
    for resource in ("compute", "memory"):
        lines = [line for line in table if line.split()[0].endswith(f".{resource}")]
        assert len(lines) == 1 and lines[0].split()[0] == f"{kind}[0..{devices - 1}].{resource}"
        group = [r for r in report.resources if re.fullmatch(rf"{kind}\[\d+\]\.{resource}", r.name)]
        shares = [report.utilisation(r) for r in group]
        worst = max(group, key=report.utilisation).name.split(".")[0]
        assert f"min {min(shares):.1%} mean {sum(shares) / len(shares):.1%} max {max(shares):.1%}" in lines[0]
        assert f"worst {worst})" in lines[0]
    assert f"{devices} devices busy min" in text and not re.search(r"\bd\d+ \d", text)

    write_json(report, tmp_path / "report.json")
    write_ops_csv(report, tmp_path / "ops.csv")
    names = {r["name"] for r in json.loads((tmp_path / "report.json").read_text())["resources"]}
    assert {f"{kind}[{d}].memory" for d in range(devices)} <= names
    with open(tmp_path / "ops.csv") as handle:
        components = {row["component"] for row in csv.DictReader(handle)}
    assert {f"{kind}[{d}]" for d in range(devices)} <= components


def test_a_single_device_keeps_its_own_line():
    text = simulate("nvidia_a100_80gb", "llama2-7b", batch=1, context=256).summary()
    assert re.search(r"^    gpu\.memory .* utilisation +\d+\.\d%$", text, re.M)
