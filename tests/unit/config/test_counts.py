"""Integer counts in machine files are bounded: a huge one is a config error at its line, not a hang,
an overflow or an out-of-memory in the component that sizes its state by it."""
from pathlib import Path

import pytest
import yaml

from hwsim.config.counts import COUNT_LIMIT, DEVICE_LIMIT
from hwsim.config.errors import ConfigError
from hwsim.machine import ARCHITECTURES_DIR, load_machine


def errors_of(machine: dict, tmp_path: Path) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(machine))
    with pytest.raises(ConfigError) as info:
        load_machine(path)
    return [line.split(": ", 2)[1:] for line in str(info.value).splitlines()]


def test_huge_npu_and_noc_counts_are_refused(tmp_path):
    machine = yaml.safe_load((ARCHITECTURES_DIR / "npu_4x4_mesh.yaml").read_text())
    npu = machine["components"]["npu"]
    npu["array"]["rows"] = 10**12
    npu["tiles"] = 10**17
    npu["noc"]["dims"] = [10**6, 10**6]
    npu["noc"]["router"]["vc_buf_size"] = 10**9
    assert errors_of(machine, tmp_path) == [
        ["components.npu.tiles", f"must be <= {COUNT_LIMIT}, got {10**17}"],
        ["components.npu.array.rows", f"must be <= {COUNT_LIMIT}, got {10**12}"],
        ["components.npu.noc.dims[0]", "must be <= 64, got 1000000"],
        ["components.npu.noc.dims[1]", "must be <= 64, got 1000000"],
        ["components.npu.noc.router.vc_buf_size", "must be <= 1024, got 1000000000"],
    ]


def test_zero_count_is_not_positive(tmp_path):
    machine = yaml.safe_load((ARCHITECTURES_DIR / "npu_4x4_mesh.yaml").read_text())
    machine["components"]["npu"]["vector"]["lanes"] = 0
    assert errors_of(machine, tmp_path) == [["components.npu.vector.lanes", "must be a positive integer, got 0"]]


def test_huge_device_count_is_refused(tmp_path):
    machine = yaml.safe_load((ARCHITECTURES_DIR / "h100_8gpu_nvlink.yaml").read_text())
    name = next(name for name, raw in machine["components"].items() if "count" in raw)
    machine["components"][name]["count"] = 10**9
    assert [f"components.{name}.count", f"must be an integer from 1 to {DEVICE_LIMIT}, got 1000000000"] in errors_of(
        machine, tmp_path)


def test_fabric_ranks_are_bounded_by_the_device_limit(tmp_path):
    # found by probing every count at 2^20: a ranks x ranks traffic matrix of 2^40 entries hung the run
    machine = yaml.safe_load((ARCHITECTURES_DIR / "h100_8gpu_nvlink.yaml").read_text())
    machine["components"]["nvlink"]["ranks"] = 2**20
    assert errors_of(machine, tmp_path) == [["components.nvlink.ranks", f"must be <= {DEVICE_LIMIT}, got {2**20}"]]
