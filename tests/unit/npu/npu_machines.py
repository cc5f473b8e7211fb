"""A small NPU machine for the tests: one function, every figure explicit."""
from hwsim.machine import machine_from_dict


def npu_params(**overrides) -> dict:
    params = {"type": "npu", "source": "test", "tiles": 4, "clock": "1GHz",
              "array": {"rows": 8, "cols": 8, "macs_per_pe_cycle": {"bf16": 1, "int8": 2}},
              "scratchpad": {"size": "256KB", "banks": 8, "bank_width": "16B"},
              "vector": {"lanes": 16, "latency_cycles": {"softmax": 20}},
              "memory": {"bandwidth": "64GB/s", "latency": "100ns", "chunk": "4KB"}}
    params.update(overrides)
    return params


def npu_machine(**overrides):
    return machine_from_dict({"name": "test-npu", "description": "test", "source": "test",
                              "components": {"npu": npu_params(**overrides)}, "mapping": {"default": "npu"}})
