"""Sweep axes over serving keys (serving.requests.rate, serving.scheduler.*, serving.replicas.*):
each point serves with its values, exactly as a direct serve() run; unknown keys, blocks, values the
serving schema refuses and axes without a serving: block are one-line errors at the axis's line."""
import pytest

from hwsim.config.errors import ConfigError
from hwsim.serving.serve import serve
from hwsim.sweep import load_sweep, run_sweep, sweep_from_dict
from hwsim.sweep.points import expand

SERVING = {"requests": {"count": 6, "rate": 4, "arrival": "constant", "prompt": "fixed:96", "output": "fixed:6"},
           "scheduler": {"policy": "continuous"}, "slo": {"tpot": "20ms"}}
SWEEP = {
    "name": "serving-axes", "machine": "nvidia_a100_80gb",
    "workloads": [{"model": "llama2-7b", "phase": "decode", "batch": 1}],
    "axes": {"policy": {"path": "serving.scheduler.policy", "values": ["continuous", "chunked"]},
             "budget": {"path": "serving.scheduler.max_tokens", "values": [64, 512]},
             "replicas": {"path": "serving.replicas.count", "values": [1, 2]}},
    "constraints": ["policy == 'chunked' or budget == 512"],
    "serving": SERVING,
    "metrics": ["ttft_p99_s", "tpot_p99_s", "goodput_rps", "requests_per_s"],
    "objectives": {"goodput_rps": "max"},
}


def test_serving_axes_set_the_serving_arguments_of_each_point():
    points, removed = expand(sweep_from_dict(SWEEP), check=False)
    assert len(points) == 6 and removed == 2
    seen = {(p.task["serving"]["scheduler"], p.task["serving"]["max_tokens"], p.task["serving"]["replicas"])
            for p in points}
    assert seen == {("continuous", 512, 1), ("continuous", 512, 2), ("chunked", 64, 1), ("chunked", 64, 2),
                    ("chunked", 512, 1), ("chunked", 512, 2)}
    assert all(p.task["serving"]["n"] == 6 and p.task["serving"]["slo_tpot"] == 0.02 for p in points)
    assert len({p.key for p in points}) == 6          # serving values are part of the point's key


def test_serving_axis_points_equal_direct_serve_runs(tmp_path):
    data = {**SWEEP, "axes": {"budget": SWEEP["axes"]["budget"], "rate": {"path": "serving.requests.rate",
                                                                        "values": [2, 50]}},
            "constraints": [], "serving": {**SERVING, "scheduler": {"policy": "chunked"}}}
    result = run_sweep(sweep_from_dict(data), tmp_path / "points.jsonl", progress=False)
    assert len(result.points) == 4
    for point in result.points:
        record = result.record(point)
        assert record["status"] == "ok", record
        direct = serve("nvidia_a100_80gb", "llama2-7b", n=6, rate=point.params["rate"], arrival="constant",
                       prompt="fixed:96", output="fixed:6", scheduler="chunked", max_tokens=point.params["budget"],
                       slo_tpot=0.02).summary()
        assert record["metrics"]["ttft_p99_s"] == direct["ttft_s"]["p99"]
        assert record["metrics"]["requests_per_s"] == direct["requests_per_s"]
    by = {(p.params["budget"], p.params["rate"]): result.record(p)["metrics"] for p in result.points}
    assert by[(64, 2)]["ttft_p99_s"] > by[(512, 2)]["ttft_p99_s"]     # a 96-token prompt takes 2 chunks of 64


@pytest.mark.parametrize("path, message", [
    ("serving.scheduler.max_token", "unknown serving key 'max_token' (did you mean 'max_tokens'?)"),
    ("serving.replica.count", "unknown serving key 'replica' (did you mean 'replicas'?)"),
    ("serving.scheduler", "'scheduler' is a block; name one of its keys: policy, max_seqs"),
    ("serving.bucket.size", "'bucket' is a value, not a block with key 'size'"),
    ("serve.requests.rate", "path must start with one of machine., model., workload., serving., got "
                            "'serve.requests.rate' (did you mean 'serving'?)"),
])
def test_a_bad_serving_axis_path_is_one_line_at_its_line(tmp_path, path, message):
    text = f"""name: bad
machine: nvidia_a100_80gb
workloads: [{{model: llama2-7b}}]
serving: {{requests: {{count: 2}}}}
axes:
  x: {{path: {path}, values: [1, 2]}}
metrics: [goodput_rps]
"""
    (tmp_path / "sweep.yaml").write_text(text)
    with pytest.raises(ConfigError) as error:
        load_sweep(tmp_path / "sweep.yaml")
    assert "sweep.yaml:6: " in str(error.value) and message in str(error.value)
    assert len(str(error.value).splitlines()) == 1


def test_a_serving_axis_needs_a_serving_block():
    data = {key: value for key, value in SWEEP.items() if key != "serving"}
    data["metrics"], data["objectives"] = ["tokens_per_s"], {"tokens_per_s": "max"}
    with pytest.raises(ConfigError, match="axes.policy.path: a serving axis needs a serving: block"):
        sweep_from_dict(data)


@pytest.mark.parametrize("axis, message", [
    ({"path": "serving.requests.rate", "values": [1, -1.5]},
     "value -1.5 at serving.requests.rate: requests.rate: must be > 0"),
    ({"path": "serving.scheduler.policy", "values": ["chunked", "chunk"]},
     "value 'chunk' at serving.scheduler.policy: scheduler.policy: must be one of"),
    ({"path": "serving.replicas.router", "values": ["least-token"]}, "(did you mean 'least-tokens'?)"),
])
def test_a_value_the_serving_schema_refuses_names_the_axis(axis, message):
    data = {**SWEEP, "axes": {"x": axis}, "constraints": []}
    with pytest.raises(ConfigError) as error:
        expand(sweep_from_dict(data))
    assert message in str(error.value) and len(str(error.value).splitlines()) == 1
