"""Sweep files (sweeps/*.yaml): a base machine, workloads, axes, constraints, metrics, objectives.

    name: a100-hbm-vs-compute
    machine: nvidia_a100_80gb                 # shipped name, or a path relative to this file
    workloads:
      - {model: llama2-7b, phase: decode, batch: 1, context: 2048}
    axes:                                     # parameter name -> where it goes and what it takes
      bw:   {path: machine.components.gpu.memory.bandwidth, values: [1, 2, 4], unit: TB/s}
      peak: {path: machine.components.gpu.peak.bf16, logrange: {start: 100, stop: 1600, factor: 2}, unit: TFLOPS}
    constraints: ["peak / bw <= 400"]          # expressions over parameter names
    metrics: [tokens_per_s, energy_per_token_j, latency_s, bound]
    objectives: {tokens_per_s: max, energy_per_token_j: min}
    serving: {requests: {count: 200, rate: 4}, scheduler: {policy: chunked}, slo: {ttft: 1s, tpot: 100ms}}

Key paths start with `machine.` (the machine file's data), `model.` (the model's shape),
`workload.` (model name, phase, batch, context, precision.*, routing.*, seed) or `serving.` (a key of
the `serving:` block: serving.requests.rate, serving.scheduler.policy, serving.scheduler.max_tokens,
serving.kv.block_size, serving.replicas.count, serving.replicas.router, ...; the block must exist). Axes with the same
`zip:` group advance together; `uniform`/`loguniform`/`choice` axes draw `random.samples` seeded
points jointly. Grid axes, the random block and the workloads combine as a cross product.
With a `serving:` block (hwsim/serving/spec.py's keys but machine, model and precision), each point
also serves that request stream on its machine and model and can record SERVING_METRICS (TTFT,
TPOT, goodput, SLO attainment, ...) like step metrics.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from hwsim import defaults
from hwsim.config.errors import ConfigError, did_you_mean
from hwsim.config.loader import SourceMap, load_document
from hwsim.config.schema import Strict, parse
from hwsim.serving.spec import ServingRun, key_problem
from hwsim.sweep.expr import Expression

ROOTS = ("machine", "model", "workload", "serving")
# scalar metrics every point stores (Report.to_dict names), and the per-kind time breakdown
METRICS = {
    "latency_s": "time of the step (s); prefill: time to first token",
    "tokens_per_s": "tokens produced (decode) or processed (prefill) per second",
    "energy_per_token_j": "energy per token (J)",
    "energy_j": "energy of the step (J)",
    "tokens": "tokens in the step",
    "roofline_floor_s": "roofline floor of the step (s)",
    "bound": "the busiest resource",
    "time_by_kind_s": "operator time per operator kind (s), for breakdown plots",
}
TEXT_METRICS = {"bound", "time_by_kind_s"}
# what a point with a `serving:` block also stores: name -> (meaning, where in ServingReport.summary())
SERVING_METRICS = {
    "ttft_mean_s": ("mean time to first token (s)", ("ttft_s", "mean")),
    "ttft_p99_s": ("p99 time to first token (s)", ("ttft_s", "p99")),
    "tpot_mean_s": ("mean time per output token (s)", ("tpot_s", "mean")),
    "tpot_p99_s": ("p99 time per output token (s)", ("tpot_s", "p99")),
    "e2e_p99_s": ("p99 end-to-end latency (s)", ("e2e_s", "p99")),
    "requests_per_s": ("requests completed per second", ("requests_per_s",)),
    "output_tokens_per_s": ("output tokens per second", ("output_tokens_per_s",)),
    "slo_attainment": ("share of requests meeting both TTFT and TPOT targets", ("slo", "attainment")),
    "goodput_rps": ("requests per second meeting both targets", ("slo", "goodput_rps")),
    "energy_per_request_j": ("energy per completed request (J)", ("energy_per_request_j",)),
}


class Range(Strict):
    """start, start + step, ... up to and including stop."""

    start: float
    stop: float
    step: PositiveFloat


class LogRange(Strict):
    """Geometric: `num` values from start to stop inclusive, or start * factor**i up to stop."""

    start: PositiveFloat
    stop: PositiveFloat
    num: Optional[PositiveInt] = None
    factor: Optional[float] = Field(None, gt=1)

    @model_validator(mode="after")
    def _one_spacing(self):
        if (self.num is None) == (self.factor is None):
            raise ValueError("give exactly one of num or factor")
        if self.stop < self.start:
            raise ValueError(f"stop ({self.stop}) is below start ({self.start})")
        return self


GENERATORS = ("values", "range", "logrange", "uniform", "loguniform", "choice")
RANDOM = ("uniform", "loguniform", "choice")


class Axis(Strict):
    """One swept parameter: where it goes (`path`) and the values it takes (one generator)."""

    path: str
    values: Optional[list[Any]] = Field(None, min_length=1)
    range: Optional[Range] = None
    logrange: Optional[LogRange] = None
    uniform: Optional[tuple[float, float]] = None
    loguniform: Optional[tuple[PositiveFloat, PositiveFloat]] = None
    choice: Optional[list[Any]] = Field(None, min_length=1)
    integer: bool = False            # round numbers to integers (counts, sizes)
    unit: Optional[str] = None       # written after the number in the file: 2 + 'TB/s' -> '2TB/s'
    zip: Optional[str] = None        # axes of one zip group take their i-th values together

    @model_validator(mode="after")
    def _one_generator(self):
        given = [g for g in GENERATORS if getattr(self, g) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(GENERATORS)}"
                             + (f" (got {', '.join(given)})" if given else ""))
        root = self.path.split(".")[0]
        if root not in ROOTS or "." not in self.path:
            raise ValueError(f"path must start with one of {', '.join(r + '.' for r in ROOTS)}, "
                             f"got {self.path!r}{did_you_mean(root, ROOTS)}")
        if self.zip is not None and self.is_random:
            raise ValueError("random axes are already sampled jointly; remove zip")
        for low_high in (self.uniform, self.loguniform):
            if low_high is not None and low_high[1] < low_high[0]:
                raise ValueError(f"high ({low_high[1]}) is below low ({low_high[0]})")
        return self

    @property
    def is_random(self) -> bool:
        return any(getattr(self, g) is not None for g in RANDOM)

    @property
    def key_path(self) -> tuple:
        """'machine.components.gpu.peak.bf16' -> ('machine', 'components', 'gpu', 'peak', 'bf16');
        all-digit parts index lists."""
        return tuple(int(p) if p.isdigit() else p for p in self.path.split("."))


class RandomSpec(Strict):
    samples: PositiveInt
    seed: NonNegativeInt = 0


class PrecisionSpec(Strict):
    """Number formats; a format not given is bf16 (omit the whole block for the model's own)."""

    weights: str = "bf16"
    activations: str = "bf16"
    kv_cache: str = "bf16"


class Workload(Strict):
    """A model and how it runs. Omitted precision: the model's released formats."""

    model: str
    phase: Literal["prefill", "decode"] = defaults.PHASE
    batch: PositiveInt = defaults.BATCH
    context: PositiveInt = defaults.CONTEXT
    precision: Optional[PrecisionSpec] = None
    routing: Optional[dict[str, Any]] = None    # RoutingSpec fields (MoE models)
    seed: NonNegativeInt = defaults.SEED


class SweepSpec(Strict):
    name: str
    description: str = ""
    machine: str
    workloads: list[Workload] = Field(min_length=1)
    axes: dict[str, Axis] = {}
    random: Optional[RandomSpec] = None
    constraints: list[str] = []
    metrics: list[str] = ["tokens_per_s", "energy_per_token_j", "latency_s", "bound"]
    objectives: dict[str, Literal["min", "max"]] = {"tokens_per_s": "max"}
    serving: Optional[ServingRun] = None      # each point also serves this request stream (SERVING_METRICS)


def axes_problems(spec: SweepSpec, source: SourceMap) -> list:
    """Checks of the axes and constraints the schema cannot express, each pointing at its line
    (shared with search files, hwsim/search/spec.py)."""
    problems = []
    for name in spec.axes:
        if not name.isidentifier():
            problems.append(source.problem(("axes", name), "parameter names must be identifiers "
                                                           "(letters, digits, _) to be usable in constraints"))
    for index, text in enumerate(spec.constraints):
        try:
            Expression(text, set(spec.axes))
        except ValueError as exc:
            problems.append(source.problem(("constraints", index), str(exc)))
    seen: dict[str, str] = {}
    for name, axis in spec.axes.items():
        if axis.path in seen:
            problems.append(source.problem(("axes", name, "path"), f"already set by axis '{seen[axis.path]}'"))
        seen[axis.path] = name
        if axis.key_path[0] == "serving":
            why = key_problem(axis.key_path[1:]) if spec.serving else "a serving axis needs a serving: block"
            if why:
                problems.append(source.problem(("axes", name, "path"), why))
    return problems


def _problems(spec: SweepSpec, source: SourceMap) -> list:
    """Cross-field checks the schema cannot express, each pointing at its line."""
    problems = axes_problems(spec, source)
    has_random = any(axis.is_random for axis in spec.axes.values())
    if has_random and spec.random is None:
        problems.append(source.problem(("axes",), "random axes (uniform, loguniform, choice) need "
                                                  "'random: {samples: N, seed: S}'"))
    if spec.random is not None and not has_random:
        problems.append(source.problem(("random",), "no axis is random (uniform, loguniform, choice)"))
    known = {**METRICS, **(SERVING_METRICS if spec.serving else {})}
    for index, metric in enumerate(spec.metrics):
        if metric not in known:
            hint = "" if spec.serving or metric not in SERVING_METRICS else " (a serving metric: add a serving: block)"
            problems.append(source.problem(("metrics", index), f"unknown metric '{metric}'{hint}"
                                           f"{did_you_mean(metric, known)}; known: {', '.join(known)}"))
    for metric in spec.objectives:
        if metric not in known or metric in TEXT_METRICS:
            numeric = [m for m in known if m not in TEXT_METRICS]
            problems.append(source.problem(("objectives", metric), f"not a numeric metric"
                                           f"{did_you_mean(metric, numeric)}; known: {', '.join(numeric)}"))
    return problems


class Sweep:
    """A validated sweep file: its spec, where each key came from, and the file's folder."""

    def __init__(self, spec: SweepSpec, source: SourceMap, path: Optional[Path] = None, data: Optional[dict] = None):
        self.spec = spec
        self.source = source
        self.path = path
        self.data = data or {}      # the file as written: serving axes set keys of its serving: block

    @property
    def folder(self) -> Path:
        return self.path.parent if self.path else Path.cwd()


def sweep_from_dict(data: dict, source: SourceMap | None = None, path: Path | None = None,
                    schema: type[SweepSpec] = SweepSpec, checks=None) -> Sweep:
    """Validate plain data as a sweep; raises ConfigError naming file, line and key path. `schema` and
    `checks` (spec, source) -> problems: a file kind built on sweeps (search files, hwsim/search/spec.py)."""
    source = source or SourceMap("<dict>")
    spec = parse(schema, data, source)
    problems = (checks or _problems)(spec, source)
    if problems:
        raise ConfigError(problems)
    return Sweep(spec, source, path, data)


def load_sweep(path, schema: type[SweepSpec] = SweepSpec, checks=None) -> Sweep:
    """Load and validate a sweep file (an `extends:` of another sweep file works too)."""
    path = Path(path)
    doc = load_document(path, search_dirs=[Path(__file__).resolve().parents[2] / "sweeps"])
    return sweep_from_dict(doc.data, doc.source, path, schema, checks)
