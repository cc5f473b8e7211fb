"""Fuzzed input files through `hwsim run`: a checked report or one-line errors, never a traceback.

Shipped machine and model files and generated trace files are mutated one value or key at a
time (numbers to 0, negative, NaN, inf, huge, tiny, strings; quantities keep their unit with a
bad number; keys dropped or misspelt) and run through `hwsim.cli.main` as a user would, and so
are the integer options --batch, --context and --steps with an MoE model (argparse itself refuses
non-integers). The
property: exit 0 with a report whose latency is finite (run_trace has checked the roofline),
or exit 2 with one `hwsim: error:` line per problem on stderr (nothing else: no traceback). Any
other exception fails the test. Derandomized, so CI sees the same examples on every run.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwsim.cli import main
from hwsim.machine import ARCHITECTURES_DIR
from hwsim.workload.model import MODELS_DIR, load_model
from hwsim.workload.precision import Precision
from hwsim.workload.trace import generate_trace

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
RUN = ["--phase", "decode", "--context", "16", "--no-plots"]

# shipped machines that run gpt2-small (or the given model) fast, one per component family
MACHINES = {
    "nvidia_a100_80gb": ["gpt2-small"],
    "nvidia_a100_80gb_tiles": ["gpt2-small", "--weights", "bf16", "--activations", "bf16"],
    "xeon_gold_6154": ["gpt2-small"],
    "cambricon_llm_s": ["gpt2-small"],
    "instinfer": ["gpt2-small"],
    "llm_in_a_flash": ["gpt2-small"],
    "pim_gpt": ["gpt2-small"],
    "sail_n1": ["gpt2-small"],
    "edge_moe_flash": ["olmoe-1b-7b"],
    "h100_8gpu_nvlink": ["gpt2-small", "--batch", "8"],
    "npu_4x4_mesh": ["gpt2-small"],
}
MODELS = ["gpt2-small", "llama2-7b", "olmoe-1b-7b", "deepseek-v2-lite"]

QUANTITY = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*([A-Za-z/%]+)\s*$")
# replacements: broken, or valid but extreme (1e17, '1e-3GHz'), which must still run or be refused
BAD_NUMBERS = [0, -1, 0.5, 1e17, 1e300, 1e-300, float("nan"), float("inf"), float("-inf"), "abc", "", None,
               True, [], {}]
BAD_QUANTITY_NUMBERS = ["0", "-1", "1e-300", "1e300", "1e999", "0.4", "1e-3", "1e4"]


def _leaves(data, path=()):
    """Every (path, value) in nested dicts and lists, inner nodes included."""
    yield path, data
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield from _leaves(value, path + (key,))


@st.composite
def mutated(draw, data):
    """`data` with one value replaced, or one key dropped or misspelt."""
    paths = [path for path, _ in _leaves(data) if path]
    path = draw(st.sampled_from(paths))
    value = dict(_leaves(data))[path]
    action = draw(st.sampled_from(["value", "drop", "rename"] if isinstance(path[-1], str) else ["value"]))
    data = json.loads(json.dumps(data))   # a deep copy
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if action == "drop":
        del parent[path[-1]]
    elif action == "rename":
        parent[path[-1] + "x"] = parent.pop(path[-1])
    elif isinstance(value, str) and QUANTITY.match(value):
        parent[path[-1]] = draw(st.sampled_from(BAD_QUANTITY_NUMBERS)) + QUANTITY.match(value).group(1)
    else:
        parent[path[-1]] = draw(st.sampled_from(BAD_NUMBERS))
    return data


def run_cli(argv: list[str]) -> tuple[int, str]:
    """`hwsim` with `argv`: exit code and stderr (stdout is dropped)."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def assert_report_or_one_line(argv: list[str], out: Path) -> None:
    code, err = run_cli([*argv, "--out", str(out)])
    if code == 0:
        report = json.loads((out / "report.json").read_text())
        assert math.isfinite(report["latency_s"]) and report["latency_s"] > 0, report["latency_s"]
    else:
        lines = err.splitlines()
        assert code == 2 and lines and all(line.startswith("hwsim: error: ") for line in lines), (code, err)


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@given(data=st.data())
@FUZZ
def test_mutated_machine_files(data):
    name = data.draw(st.sampled_from(sorted(MACHINES)))
    machine = data.draw(mutated(_yaml(ARCHITECTURES_DIR / f"{name}.yaml")))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.yaml"
        path.write_text(yaml.safe_dump(machine))
        assert_report_or_one_line(["run", str(path), *MACHINES[name], *RUN], Path(folder) / "out")


@given(data=st.data())
@FUZZ
def test_mutated_model_files(data):
    name = data.draw(st.sampled_from(MODELS))
    model = data.draw(mutated(_yaml(MODELS_DIR / f"{name}.yaml")))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.yaml"
        path.write_text(yaml.safe_dump(model))
        assert_report_or_one_line(["run", "nvidia_a100_80gb", str(path), *RUN], Path(folder) / "out")


def _trace_file(model: str, phase: str) -> dict:
    trace = generate_trace(load_model(model), phase, 2, 8, Precision())
    with tempfile.TemporaryDirectory() as folder:
        trace.save(Path(folder) / "t.json")
        return json.loads((Path(folder) / "t.json").read_text())


TRACES = {(model, phase): _trace_file(model, phase) for model in ("gpt2-small", "olmoe-1b-7b")
          for phase in ("decode", "prefill")}


@given(data=st.data())
@FUZZ
def test_mutated_trace_files(data):
    trace = data.draw(mutated(TRACES[data.draw(st.sampled_from(sorted(TRACES)))]))
    machine = data.draw(st.sampled_from(["nvidia_a100_80gb", "nvidia_a100_80gb_tiles", "xeon_gold_6154",
                                         "cambricon_llm_s", "pim_gpt"]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trace.json"
        path.write_text(json.dumps(trace))
        assert_report_or_one_line(["run", machine, "--trace", str(path), "--no-plots"], Path(folder) / "out")


STEP_SIZES = [-1, 0, 1, 2, 7, 300, 4095, 10**6, 2**20 + 1, 10**9, 10**18, 2**63, 10**30]


@given(phase=st.sampled_from(["decode", "prefill"]), batch=st.sampled_from(STEP_SIZES),
       context=st.sampled_from(STEP_SIZES), steps=st.sampled_from([1, 2, 0, -1, 10**9]),
       overcommit=st.booleans())
@FUZZ
def test_batch_context_and_steps(phase, batch, context, steps, overcommit):
    argv = ["run", "nvidia_a100_80gb", "olmoe-1b-7b", "--phase", phase, "--batch", str(batch),
            "--context", str(context), "--steps", str(steps), "--no-plots"]
    with tempfile.TemporaryDirectory() as folder:
        assert_report_or_one_line(argv + ["--allow-overcommit"] * overcommit, Path(folder) / "out")
