"""Serving files (``hwsim serve serving.yaml``): one serving run, strictly checked (unknown keys
are errors with a did-you-mean, every error names the file and line).

    machine: nvidia_a100_80gb            # shipped name, or a path relative to this file
    model: llama2-7b                     # default: the machine's defaults: model
    precision: {weights: bf16}           # formats not given: the machine's, else the model's
    requests: {count: 200, rate: 4, arrival: poisson, cv: 1, prompt: lognormal:1020:0.498,
               output: lognormal:129:0.992, seed: 0}      # or trace: FILE (relative to this file)
    scheduler: {policy: chunked, max_seqs: 256, max_tokens: 512, preemption: swap,
                swap_link: pcie4_x16, swap_space: 4GB}
    kv: {block_size: 16, tokens: 200000}  # tokens default: the machine's capacity model
    replicas: {count: 2, router: least-tokens}
    disaggregation: {decode_machine: nvidia_h100_sxm, kv_link: roce_400g, decode_replicas: 1}
    slo: {ttft: 1s, tpot: 100ms}
    bucket: 1
    capacity_goal: {attainment: 0.9, start_rate: 1, max_rate: 64}   # search the capacity instead

Every key maps onto an argument of ``hwsim.serving.serve.serve``; defaults are serve()'s. Under
disaggregation, replicas.count is the prefill pool's replicas and decode_replicas the decode pool's. With
`capacity_goal:`, ``hwsim serve FILE`` runs a capacity search (``hwsim.serving.capacity_search``): the
highest arrival rate whose SLO attainment reaches `attainment`, from `start_rate` (default
requests.rate) doubling up to `max_rate` (default: no bound), then bisecting to `granularity`.
"""
from __future__ import annotations

import typing
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, model_validator

from hwsim import defaults
from hwsim.components.interconnect.presets import link_preset
from hwsim.config.errors import did_you_mean
from hwsim.config.loader import SourceMap, load_document
from hwsim.config.schema import Strict, parse
from hwsim.config.units import ByteSize, Duration
from hwsim.serving.kv import KV_LINK, SWAP_LINK, SWAP_SPACE
from hwsim.serving.requests import ARRIVALS, OUTPUT, PROMPT, Lengths
from hwsim.serving.routers import ROUTERS
from hwsim.serving.schedulers import MAX_SEQS, PREEMPTIONS, SCHEDULERS


def _link(name: str) -> str:
    """A shipped link preset's name (its error lists the presets)."""
    try:
        link_preset(name)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    return name


class Formats(Strict):
    weights: Optional[str] = None
    activations: Optional[str] = None
    kv_cache: Optional[str] = None


class RequestsSpec(Strict):
    """Generated requests (count, arrival at rate, lengths) or the first `count` rows of a trace."""

    count: PositiveInt = 100
    rate: float = Field(4.0, gt=0)
    arrival: Literal[ARRIVALS] = "poisson"
    cv: float = Field(1.0, gt=0)
    prompt: str = PROMPT
    output: str = OUTPUT
    trace: Optional[str] = None
    seed: NonNegativeInt = defaults.SEED

    @field_validator("prompt", "output")
    @classmethod
    def _lengths(cls, text: str) -> str:
        Lengths.parse(text)
        return text


class SchedulerSpec(Strict):
    policy: Literal[tuple(SCHEDULERS)] = "continuous"
    max_seqs: PositiveInt = MAX_SEQS
    max_tokens: Optional[PositiveInt] = None
    preemption: Literal[PREEMPTIONS] = "recompute"
    swap_link: str = SWAP_LINK
    swap_space: ByteSize = f"{SWAP_SPACE}B"

    _swap_link = field_validator("swap_link")(_link)


class KVSpec(Strict):
    block_size: PositiveInt = 16
    tokens: Optional[PositiveInt] = None


class ReplicasSpec(Strict):
    count: PositiveInt = 1
    router: Literal[tuple(ROUTERS)] = "round-robin"


class DisaggregationSpec(Strict):
    decode_machine: str
    kv_link: str = KV_LINK
    decode_replicas: PositiveInt = 1

    _kv_link = field_validator("kv_link")(_link)


class SLOSpec(Strict):
    ttft: Duration = "1s"
    tpot: Duration = "100ms"


class CapacityGoal(Strict):
    """A capacity search's target and rate bounds (``capacity_search``'s arguments)."""

    attainment: float = Field(gt=0, le=1)
    start_rate: Optional[PositiveFloat] = None       # requests/s; default: requests.rate
    max_rate: Optional[PositiveFloat] = None
    granularity: Optional[float] = Field(None, gt=0, lt=1)    # default: capacity_search's (Vidur's 2.5 %)
    max_runs: Optional[PositiveInt] = None                      # default: capacity_search's (20)

    @model_validator(mode="after")
    def _bounds(self):
        if self.start_rate and self.max_rate and self.max_rate < self.start_rate:
            raise ValueError(f"max_rate ({self.max_rate}) is below start_rate ({self.start_rate})")
        return self


class ServingRun(Strict):
    """How requests are served on a given machine and model (a sweep file's `serving:` block)."""

    requests: RequestsSpec = RequestsSpec()
    scheduler: SchedulerSpec = SchedulerSpec()
    kv: KVSpec = KVSpec()
    replicas: ReplicasSpec = ReplicasSpec()
    disaggregation: Optional[DisaggregationSpec] = None
    slo: SLOSpec = SLOSpec()
    bucket: PositiveInt = 1

    def arguments(self, local=str) -> dict:
        """serve()'s keyword arguments as plain data (the decode machine by name; ``loaded`` loads
        it); `local` resolves a file name given in the file (trace, decode machine)."""
        r, sched, split = self.requests, self.scheduler, self.disaggregation
        return dict(
            requests=r.trace and local(r.trace), n=r.count, rate=r.rate, arrival=r.arrival, cv=r.cv,
            prompt=r.prompt, output=r.output, seed=r.seed, scheduler=sched.policy, max_seqs=sched.max_seqs,
            max_tokens=sched.max_tokens, preemption=sched.preemption, swap_link=sched.swap_link,
            swap_space=sched.swap_space, block_size=self.kv.block_size, kv_tokens=self.kv.tokens,
            replicas=self.replicas.count, router=self.replicas.router, slo_ttft=self.slo.ttft,
            slo_tpot=self.slo.tpot, bucket=self.bucket, decode_machine=split and local(split.decode_machine),
            kv_link=split.kv_link if split else KV_LINK, decode_replicas=split.decode_replicas if split else 1)


def _block(annotation) -> type[BaseModel] | None:
    """The schema of a nested block (``RequestsSpec``, ``Optional[DisaggregationSpec]``), None for a value."""
    kinds = typing.get_args(annotation) or (annotation,)
    return next((t for t in kinds if isinstance(t, type) and issubclass(t, BaseModel)), None)


def key_problem(keys: tuple) -> str | None:
    """Why `keys` (a path inside a serving block, e.g. ('scheduler', 'max_tokens')) names no serving
    setting, with a did-you-mean; None when it names one (what a sweep axis over serving may set)."""
    schema = ServingRun
    for depth, key in enumerate(keys):
        if schema is None:
            return f"'{'.'.join(map(str, keys[:depth]))}' is a value, not a block with key '{key}'"
        if key not in schema.model_fields:
            return f"unknown serving key '{key}'{did_you_mean(key, schema.model_fields)}; " \
                   f"known: {', '.join(schema.model_fields)}"
        schema = _block(schema.model_fields[key].annotation)
    if schema is not None:
        return f"'{'.'.join(map(str, keys))}' is a block; name one of its keys: {', '.join(schema.model_fields)}"
    return None


def loaded(arguments: dict) -> dict:
    """`arguments` with the decode machine (a name or path) loaded."""
    from hwsim.machine import load_machine

    decode = arguments["decode_machine"]
    return {**arguments, "decode_machine": decode and load_machine(decode)}


class ServingSpec(ServingRun):
    """A serving file: the machine, model and formats, then how requests are served."""

    machine: str = defaults.MACHINE
    model: Optional[str] = None
    precision: Formats = Formats()
    capacity_goal: Optional[CapacityGoal] = None


class ServingFile:
    """A validated serving file; ``run()`` serves it and returns the ServingReport."""

    def __init__(self, spec: ServingSpec, path: Path):
        self.spec, self.path = spec, path

    def _local(self, name: str) -> str:
        """`name` as a path relative to the file when such a file exists, else as given (a shipped name)."""
        candidate = self.path.parent / name
        return str(candidate) if candidate.is_file() else name

    def prepare(self):
        """(the CostModel, serve()'s other keyword arguments): what a run or a capacity search needs."""
        from hwsim.machine import load_machine
        from hwsim.serving.cost import CostModel
        from hwsim.workload.model import load_model

        s = self.spec
        machine = load_machine(self._local(s.machine))
        model = load_model(machine.workload(s.model and self._local(s.model)).model)
        precision = machine.precision_for(model, **s.precision.model_dump())
        cost = CostModel(machine, model, precision, seed=s.requests.seed, bucket=s.bucket)
        return cost, loaded(s.arguments(self._local))

    def run(self, progress=None):
        """Serve the file's requests; returns the ServingReport."""
        from hwsim.serving.serve import serve

        cost, arguments = self.prepare()
        return serve(cost=cost, progress=progress, **arguments)

    def capacity(self):
        """Run the file's capacity search (`capacity_goal:`); returns the Capacity."""
        from hwsim.serving.capacity_search import capacity_search

        goal = self.spec.capacity_goal
        cost, arguments = self.prepare()
        rate = arguments.pop("rate")
        bounds = goal.model_dump(include={"granularity", "max_runs"}, exclude_none=True)
        return capacity_search(goal=goal.attainment, start_rate=goal.start_rate or rate, max_rate=goal.max_rate,
                               cost=cost, **bounds, **arguments)


def serving_from_dict(data: dict, source: SourceMap | None = None, path: Path | None = None) -> ServingFile:
    """Validate plain data as a serving file (paths in it relative to `path`'s folder, default the
    working directory); raises ConfigError naming file, line and key path."""
    spec = parse(ServingSpec, data, source or SourceMap("<dict>"))
    return ServingFile(spec, path or Path.cwd() / "<command line>")


def load_serving(path) -> ServingFile:
    """Load and check a serving file; raises ConfigError naming file, line and key path."""
    document = load_document(path)
    return serving_from_dict(document.data, document.source, Path(path))


def is_serving_file(path) -> bool:
    """Whether `path` is a YAML file whose top level names a `machine:` (machine files never do)."""
    path = Path(str(path))
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return False
    data = yaml.safe_load(path.read_text())      # the top level only: a machine file's extends: is not resolved
    return isinstance(data, dict) and "machine" in data
