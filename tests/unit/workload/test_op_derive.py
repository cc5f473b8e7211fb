"""``derive`` copies an operator with changed fields exactly as ``dataclasses.replace`` does."""
from dataclasses import replace

import pytest

from hwsim.workload.ops import Op, derive


def test_derive_equals_replace_and_refuses_unknown_fields():
    op = Op(3, "expert7.up", "matmul", 5, 1e9, "int8", weight_bytes=2.5e6, m=12, n=4096, k=7168, expert=7, deps=(1, 2))
    changes = {"id": 40, "deps": (9,), "device": 17, "m": 30, "flops": 2.5e9}
    assert derive(op, **changes) == replace(op, **changes) and derive(op) == op
    with pytest.raises(TypeError, match="no field"):
        derive(op, rows=3)
