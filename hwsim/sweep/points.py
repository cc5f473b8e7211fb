"""A sweep's points: parameter sets from the axes, resolved into plain machine/model/options data.

Each point's `inputs` is the SHA-256 of the canonical JSON of its resolved inputs and the hwsim
version, so the result store recognises a point whatever sweep file or axis names produced it.
Its `key` adds the fingerprint of the simulator's code: a stored result is found again only by
the build that computed it, and results of another build are recomputed (or reused on request,
found by `inputs`).
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Optional

import numpy as np

from hwsim.config.errors import ConfigError, did_you_mean, format_path
from hwsim.config.loader import SourceMap, load_document
from hwsim.config.schema import parse
from hwsim.machine import ARCHITECTURES_DIR, machine_from_dict, shipped_machines
from hwsim.sweep.expr import Expression
from hwsim.serving.spec import ServingRun
from hwsim.sweep.spec import Axis, Sweep, Workload
from hwsim.workload.model import MODELS_DIR, ModelSpec, load_model


@dataclass(frozen=True)
class Point:
    index: int                 # position in the sweep's expansion (stable for a given file)
    workload: str              # 'llama2-7b decode'
    params: dict[str, Any]     # axis name -> value (numbers before their unit)
    task: dict                 # {'machine': ..., 'model': ..., 'options': ...}: what a worker evaluates
    key: str                   # inputs + code fingerprint: the result of exactly this simulator build
    inputs: str                # the point under any build (before code fingerprints: the whole key)


@lru_cache(maxsize=1)
def hwsim_version() -> str:
    try:
        return metadata.version("hwsim")
    except metadata.PackageNotFoundError:
        return "unknown"


def files_fingerprint(root: Path, files) -> str:
    """SHA-256 of the files' paths (relative to `root`, in sorted order) and contents."""
    digest = hashlib.sha256()
    for name, path in sorted((path.relative_to(root).as_posix(), path) for path in set(files)):
        digest.update(f"{name}\0{path.stat().st_size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Fingerprint of the simulator: hwsim's Python source and YAML (presets), the shipped
    architectures and models. Any edit changes it, also one that cannot change a result (a
    comment, a summary line): the price of never reusing a result the code would no longer give.
    About 200 files: computed once per process, only in the process that keys the points."""
    package = Path(__file__).resolve().parents[1]
    files = [*package.rglob("*.py"), *package.rglob("*.yaml"), *ARCHITECTURES_DIR.rglob("*.yaml"),
             *MODELS_DIR.rglob("*.yaml")]
    return files_fingerprint(package.parent, files)


def inputs_key(task: dict) -> str:
    """Content hash of the resolved inputs plus the hwsim version."""
    text = json.dumps({**task, "hwsim": hwsim_version()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def point_key(inputs: str) -> str:
    """The store key of a point's result under this simulator build."""
    return hashlib.sha256(f"{inputs}:{code_fingerprint()}".encode()).hexdigest()[:32]


def _tidy(value: float) -> float:
    """Drop float noise (0.30000000000000004 -> 0.3) so keys and files show what a person wrote."""
    return float(f"{value:.12g}")


def grid_values(axis: Axis) -> list:
    """The values of a non-random axis, in order."""
    if axis.values is not None:
        return list(axis.values)
    if axis.range is not None:
        r = axis.range
        count = math.floor((r.stop - r.start) / r.step + 1e-9) + 1
        values = [_tidy(r.start + i * r.step) for i in range(max(count, 0))]
    else:
        r = axis.logrange
        if r.num is not None:
            values = [_tidy(v) for v in np.geomspace(r.start, r.stop, r.num)]
        else:
            count = math.floor(math.log(r.stop / r.start, r.factor) + 1e-9) + 1
            values = [_tidy(r.start * r.factor ** i) for i in range(count)]
    if axis.integer:
        values = list(dict.fromkeys(int(round(v)) for v in values))
    return values


def random_values(axis: Axis, rng: np.random.Generator, samples: int) -> list:
    if axis.uniform is not None:
        values = [_tidy(v) for v in rng.uniform(*axis.uniform, samples)]
    elif axis.loguniform is not None:
        low, high = np.log(axis.loguniform)
        values = [_tidy(v) for v in np.exp(rng.uniform(low, high, samples))]
    else:
        values = [axis.choice[i] for i in rng.integers(0, len(axis.choice), samples)]
    return [int(round(v)) for v in values] if axis.integer else values


def parameter_sets(sweep: Sweep) -> list[dict]:
    """Every combination of axis values (grid groups x random samples), before constraints."""
    axes = sweep.spec.axes
    groups: dict[str, list[str]] = {}
    for name, axis in axes.items():
        if not axis.is_random:
            groups.setdefault(axis.zip or f"\0{name}", []).append(name)
    blocks = []
    for group, names in groups.items():
        columns = [grid_values(axes[n]) for n in names]
        if len({len(c) for c in columns}) > 1:
            sizes = ", ".join(f"{n}: {len(c)}" for n, c in zip(names, columns))
            raise ConfigError([sweep.source.problem(("axes", names[0], "zip"),
                                                    f"zipped axes need equally many values ({sizes})")])
        blocks.append([dict(zip(names, row)) for row in zip(*columns)])
    random_names = [n for n, a in axes.items() if a.is_random]
    if random_names:
        rng = np.random.default_rng(sweep.spec.random.seed)
        columns = [random_values(axes[n], rng, sweep.spec.random.samples) for n in random_names]
        blocks.append([dict(zip(random_names, row)) for row in zip(*columns)])
    return [{k: v for block in combo for k, v in block.items()} for combo in itertools.product(*blocks)]


def _set(data, path: tuple, value) -> None:
    """Set `data[path]`, creating missing mappings on the way (e.g. a new peak format)."""
    for part in path[:-1]:
        if isinstance(data, dict):
            data = data.setdefault(part, {})
        else:
            data = data[part]
    data[path[-1]] = value


def file_value(axis: Axis, value):
    """The value as the target file writes it: a number with the axis unit appended."""
    if axis.unit is not None:
        return f"{value:.12g}{axis.unit}" if isinstance(value, (int, float)) else f"{value}{axis.unit}"
    return value


def serving_block(sweep: Sweep, params: dict) -> dict:
    """The sweep's `serving:` block as written, with the values `params` gives its serving axes."""
    block = copy.deepcopy(sweep.data["serving"])
    for name, value in params.items():
        axis = sweep.spec.axes[name]
        if axis.key_path[0] == "serving":
            _set(block, axis.key_path[1:], file_value(axis, value))
    return block


class Resolver:
    """Turns parameter sets into tasks: the base machine and models with the axis values applied."""

    def __init__(self, sweep: Sweep, evaluator: Optional[str] = None):
        self.sweep = sweep
        self.evaluator = evaluator
        path = Path(sweep.spec.machine)
        candidates = [sweep.folder / path, path, ARCHITECTURES_DIR / path, ARCHITECTURES_DIR / f"{path}.yaml"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ConfigError([sweep.source.problem(("machine",), f"no machine file or shipped machine "
                               f"'{path}'{did_you_mean(str(path), shipped_machines())}")])
        doc = load_document(found, search_dirs=[ARCHITECTURES_DIR])
        self.machine, self.machine_source = doc.data, doc.source

    def _local(self, name: str) -> str:
        """A file named in the serving block, relative to the sweep file when it exists there."""
        candidate = self.sweep.folder / name
        return str(candidate) if candidate.is_file() else name

    @staticmethod
    @lru_cache(maxsize=None)
    def _model_data(name: str) -> dict:
        return load_model(name).model_dump()

    def task(self, workload: Workload, params: dict) -> dict:
        """Resolved inputs of one point. Raises ConfigError/FileNotFoundError for a bad value."""
        axes = self.sweep.spec.axes
        by_root = {root: [(axes[n].key_path[1:], file_value(axes[n], v)) for n, v in params.items()
                          if axes[n].key_path[0] == root] for root in ("machine", "model", "workload")}
        run = workload.model_dump(exclude_none=True)
        for path, value in by_root["workload"]:
            _set(run, path, value)
        run = parse(Workload, run, SourceMap("workload")).model_dump()
        model = copy.deepcopy(self._model_data(run.pop("model")))
        for path, value in by_root["model"]:
            _set(model, path, value)
        machine = copy.deepcopy(self.machine)
        for path, value in by_root["machine"]:
            _set(machine, path, value)
        task = {"machine": machine, "model": model, "options": run}
        if self.sweep.spec.serving:
            serving = parse(ServingRun, serving_block(self.sweep, params), SourceMap("serving"))
            task["serving"] = serving.arguments(self._local)
        if self.evaluator:
            task["evaluator"] = self.evaluator
        return task

    def point(self, index: int, workload: Workload, params: dict, label: str) -> Point:
        """The point of one parameter set on one workload, keyed for the result store."""
        task = self.task(workload, params)
        inputs = inputs_key(task)
        return Point(index, label, params, task, point_key(inputs), inputs)

    def check(self, task: dict) -> None:
        """Validate a task's machine and model as strictly as their own files."""
        machine_from_dict(task["machine"], self.machine_source)
        parse(ModelSpec, task["model"], SourceMap("model"))


def _problem(sweep: Sweep, path: tuple, prefix: str, exc: Exception):
    inner = "; ".join(f"{format_path(p.path)}: {p.message}" for p in getattr(exc, "problems", [])) or str(exc)
    return sweep.source.problem(path, f"{prefix}{inner}")


def check_inputs(sweep: Sweep, resolver: Resolver) -> None:
    """Every workload, and every axis value alone on the first workload, must give valid inputs."""
    errors = (ConfigError, FileNotFoundError, ValueError)
    problems = []
    for index, workload in enumerate(sweep.spec.workloads):
        try:
            resolver.check(resolver.task(workload, {}))
        except errors as exc:
            problems.append(_problem(sweep, ("workloads", index), "", exc))
    if problems:
        raise ConfigError(problems)
    base = sweep.spec.workloads[0]
    for name, axis in sweep.spec.axes.items():
        if axis.is_random:
            probes = axis.choice or list(axis.uniform or axis.loguniform)
        else:
            probes = grid_values(axis)
        for value in probes:
            try:
                resolver.check(resolver.task(base, {name: value}))
            except errors as exc:
                problems.append(_problem(sweep, ("axes", name), f"value {value!r} at {axis.path}: ", exc))
                break
    if problems:
        raise ConfigError(problems)


def workload_label(sweep: Sweep, workload: Workload) -> str:
    """'llama2-7b decode b1 c2048', leaving out what an axis sets (it is a parameter column)."""
    swept = {axis.path for axis in sweep.spec.axes.values()}
    parts = [(workload.model, "workload.model"), (workload.phase, "workload.phase"),
             (f"b{workload.batch}", "workload.batch"), (f"c{workload.context}", "workload.context")]
    return " ".join(text for text, path in parts if path not in swept) or "workload"


def satisfies(constraints: list[Expression], params: dict) -> bool:
    """Whether a parameter set meets every constraint; a constraint that cannot be evaluated there (a
    division by zero, a type mismatch) is a one-line ValueError."""
    try:
        return all(c.evaluate(params) for c in constraints)
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ValueError(f"constraint failed to evaluate at {params}: {type(exc).__name__}: {exc}") from None


def expand(sweep: Sweep, evaluator: Optional[str] = None, check: bool = True) -> tuple[list[Point], int]:
    """All points that satisfy the constraints, and how many the constraints removed."""
    resolver = Resolver(sweep, evaluator)
    if check:
        check_inputs(sweep, resolver)
    constraints = [Expression(text, set(sweep.spec.axes)) for text in sweep.spec.constraints]
    candidates = parameter_sets(sweep)
    kept = [params for params in candidates if satisfies(constraints, params)]
    points = []
    for workload in sweep.spec.workloads:
        label = workload_label(sweep, workload)
        points += [resolver.point(len(points) + i, workload, params, label) for i, params in enumerate(kept)]
    return points, (len(candidates) - len(kept)) * len(sweep.spec.workloads)
