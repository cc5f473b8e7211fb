"""Trace container: totals and the versioned JSON file (round trip and clear errors)."""
import json

import pytest

from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision
from hwsim.workload.tracefile import Trace


def small_trace() -> Trace:
    ops = (Op(0, "embedding", "embedding", -1, 0.0, "bf16", weight_bytes=8.0, act_out_bytes=8.0, m=1, n=4),
           Op(1, "qkv", "matmul", 0, 96.0, "bf16", weight_bytes=96.0, act_in_bytes=8.0, act_out_bytes=24.0,
              m=1, n=12, k=4, deps=(0,)),
           Op(2, "kv_write", "kv_write", 0, 0.0, "bf16", act_in_bytes=16.0, kv_write_bytes=8.0, deps=(1,)),
           Op(3, "expert3.up", "matmul", 0, 1.5, "int8", weight_bytes=0.5, m=1, n=1, k=1, count=2, expert=3,
              deps=(1, 2)))
    return Trace(ops, "tiny", "decode", 1, 7, Precision("int4", "bf16", "fp8"), seed=3,
                 routing={"kind": "zipf", "s": 1.0, "gini": 0.25})


def test_totals_and_grouping():
    trace = small_trace()
    assert trace.totals() == {"flops": 97.5, "weight_bytes": 104.5, "act_in_bytes": 24.0,
                              "act_out_bytes": 32.0, "kv_read_bytes": 0.0, "kv_write_bytes": 8.0,
                              "total_bytes": 168.5}
    by_kind = trace.totals_by("kind")
    assert by_kind["matmul"]["flops"] == 97.5 and by_kind["kv_write"]["total_bytes"] == 24.0
    assert trace.totals_by("op_class")["memory"]["weight_bytes"] == 8.0
    assert set(trace.totals_by("layer")) == {-1, 0}


def test_save_load_round_trip(tmp_path):
    trace = small_trace()
    trace.save(tmp_path / "t.json")
    loaded = Trace.load(tmp_path / "t.json")
    assert loaded == trace and isinstance(loaded.ops[3].deps, tuple)
    header = json.loads((tmp_path / "t.json").read_text())
    assert header["format"] == "hwsim-trace" and header["version"] == 1


def edited(tmp_path, change) -> str:
    small_trace().save(tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    change(data)
    (tmp_path / "t.json").write_text(json.dumps(data))
    return tmp_path / "t.json"


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(version=2), "version 2; this hwsim reads version 1"),
    (lambda d: d.update(format="other"), "not a hwsim-trace file"),
    (lambda d: d.pop("model"), "missing key 'model'"),
    (lambda d: d["ops"][1].__setitem__(2, "convolution"), "kind must be one of"),
    (lambda d: d["ops"][1].__setitem__(-1, [3]), r"ops\[1\] \(qkv\): deps must be a list of earlier op ids \(0..0\)"),
    (lambda d: d["ops"][1].pop(), r"ops\[1\]: \d+ values for \d+ fields"),
    (lambda d: d["fields"].append("colour"), "unknown \\['colour'\\]"),
    (lambda d: d["ops"][1].__setitem__(4, "abc"),
     r"t.json: ops\[1\] \(qkv\): flops must be a finite number in \[0, 1e\+18\], got 'abc'"),
    (lambda d: d["ops"][1].__setitem__(4, float("nan")),
     r"ops\[1\] \(qkv\): flops must be a finite number in \[0, 1e\+18\], got nan"),
    (lambda d: d["ops"][1].__setitem__(6, -8.0),
     r"ops\[1\] \(qkv\): weight_bytes must be a finite number in \[0, 1e\+18\], got -8.0"),
    (lambda d: d["ops"][1].__setitem__(12, 1.5), r"ops\[1\] \(qkv\): n must be an integer >= 0, got 1.5"),
    (lambda d: d["ops"][1].__setitem__(1, 7), r"ops\[1\]: name must be a string, got 7"),
    (lambda d: d["ops"][1].__setitem__(5, "bf17"), r"compute_dtype must be a number format"),
    (lambda d: d["ops"][1].__setitem__(0, 5), r"ops\[1\] \(qkv\): ids must run 0..n-1 in order, got id 5"),
    (lambda d: d["ops"][1].__setitem__(13, 0),
     r"ops\[1\] \(qkv\): a matmul needs m, n and k >= 1 \(its GEMM shape\), got m=1, n=12, k=0"),
    (lambda d: d["ops"][1].__setitem__(14, 0), r"ops\[1\] \(qkv\): count must be an integer >= 1, got 0"),
    (lambda d: d["ops"][1].__setitem__(4, 1e9), r"ops\[1\] \(qkv\): flops 1000000000.0 exceed what its shape does: "
                                                 r"count x m x n x \(2k \+ 1\) = 108"),
    (lambda d: d["ops"][1].__setitem__(6, 1e6), r"ops\[1\] \(qkv\): weight_bytes \+ kv_read_bytes 1000000.0 exceed"),
    (lambda d: d.update(batch="2"), "batch must be an integer >= 1, got '2'"),
    (lambda d: d.update(phase="train"), "phase must be prefill, decode or mixed"),
    (lambda d: d.update(ops=[]), "ops must be a non-empty list"),
])
def test_malformed_files_are_rejected_clearly(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        Trace.load(edited(tmp_path, change))


def test_non_json_file(tmp_path):
    (tmp_path / "t.json").write_text("{not json")
    with pytest.raises(ValueError, match="cannot read trace file"):
        Trace.load(tmp_path / "t.json")
