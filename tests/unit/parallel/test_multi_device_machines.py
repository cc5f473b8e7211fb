"""The shipped multi-device machines load, and DeepSeek-V3 / Mixtral run on them within physics."""
import pytest

from hwsim.engine import Simulator
from hwsim.machine import load_machine
from hwsim.step import simulate
from hwsim.workload.precision import Precision

BF16 = Precision("bf16", "bf16", "bf16")


@pytest.mark.parametrize("name, devices, fabric", [("h100_8gpu_nvlink", 8, "nvlink"),
                                                    ("h100_cluster_2x8", 16, "fabric"),
                                                    ("cloudmatrix384_slice32", 32, "ub")])
def test_machines_build_one_instance_per_device(name, devices, fabric):
    machine = load_machine(name)
    assert machine.spec.parallelism.devices == devices
    components = machine.build(Simulator())
    assert len(components) == devices + 1 and fabric in components


def test_mixtral_decode_on_the_8_gpu_node_spreads_its_8_experts():
    report = simulate("h100_8gpu_nvlink", "mixtral-8x7b", batch=8, context=256)
    assert report.parallel["expert_load"]["per_device_pairs"] and len(report.device_busy_s()) == 8
    assert sum(row["dispatch_s"] for row in report.layer_breakdown()) > 0


@pytest.mark.slow
@pytest.mark.parametrize("name, precision", [("h100_cluster_2x8", None), ("cloudmatrix384_slice32", BF16)])
def test_deepseek_v3_decode_on_the_cluster_and_the_supernode(name, precision):
    report = simulate(name, "deepseek-v3", batch=64, context=1024, precision=precision)
    assert report.latency_s >= report.floor_s
    assert sum(row["combine_s"] for row in report.layer_breakdown()) > 0
