"""Run a search: Optuna proposes designs, the sweep executors evaluate them, the sweep store keeps them.

Each round asks the sampler for `batch` trials, evaluates those the store does not hold (local
processes or Dask, hwsim/sweep/executors.py), then tells the sampler every result in trial order.
The sampler is seeded and sees the same results in the same order whatever the worker count, so a
search file and seed always give the same trials and the same front.

Resuming is replaying: every run starts a fresh study and repeats the sampler's proposals, which
the store answers without recomputing until the first design it lacks. A search killed at any point
(SIGKILL included) therefore resumes where it stopped, and a finished search reruns from the store
alone, with exactly the trials of an uninterrupted run. (Continuing Optuna's own journal would
instead re-propose the trials the kill left running, and change the sequence.) The study is also
written to an Optuna journal file (`study.journal`, read by optuna-dashboard), replaced by each run.
"""
from __future__ import annotations

import math
import sys
from contextlib import closing, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from tqdm import tqdm

from hwsim.search.deployment import deployment_area
from hwsim.search.spec import DERIVED
from hwsim.sweep.executors import connect, run_points
from hwsim.sweep.expr import Expression
from hwsim.sweep.points import (Point, Resolver, check_inputs, grid_values, hwsim_version, satisfies,
                               workload_label)
from hwsim.sweep.run import open_store, run_sweep
from hwsim.sweep.spec import Sweep

MAX_INFEASIBLE_PER_TRIAL = 100     # proposals the constraints may reject per trial before the search gives up


def default_folder(search: Sweep) -> Path:
    return Path("results") / "searches" / search.spec.name


@dataclass
class Trial:
    number: int
    params: dict
    point: Point
    record: dict                      # the store's record (status, metrics or error)
    values: Optional[list[float]]     # objective values, None if the point failed
    error: str = ""


@dataclass
class SearchResult:
    search: Sweep
    trials: list[Trial]
    front: list[Trial]                # non-dominated designs (each at its first trial), by trial number
    computed: int                     # points evaluated by this run (the rest came from the store)
    infeasible: int                   # proposals the constraints rejected
    folder: Path


def objective_values(search: Sweep, point: Point, metrics: dict) -> list[float]:
    """The objectives of one evaluated point: report metrics, or derived ones (DERIVED). A metric the
    point leaves undefined (p99 TPOT when no request completed) is a ValueError: a failed trial."""
    area = deployment_area(point.task) if search.spec.needs_area else None
    values = []
    for name in search.spec.objectives:
        value = DERIVED[name][2](metrics, area) if name in DERIVED else metrics[name]
        if value is None:
            raise ValueError(f"{name} is undefined at this design (no request completed, or none with 2+ tokens)")
        values.append(float(value))
    return values


class Space:
    """The axes as Optuna distributions: a trial's suggestions -> a parameter set."""

    def __init__(self, search: Sweep):
        self.axes = search.spec.axes
        self.groups: dict[str, list[str]] = {}
        for name, axis in self.axes.items():
            self.groups.setdefault(axis.zip or name, []).append(name)

    def first(self) -> dict:
        """Each axis at its first value (its low end if continuous): a design to check before searching."""
        return {name: (axis.choice or (axis.uniform or axis.loguniform or grid_values(axis)))[0]
                for name, axis in self.axes.items()}

    def suggest(self, trial) -> dict:
        params = {}
        for group, names in self.groups.items():
            axis = self.axes[names[0]]
            if len(names) > 1:       # a zip group: one index into all its columns
                index = trial.suggest_categorical(f"zip:{group}", list(range(len(grid_values(axis)))))
                params.update({n: grid_values(self.axes[n])[index] for n in names})
            elif axis.uniform is not None or axis.loguniform is not None:
                low, high = axis.uniform or axis.loguniform
                log = axis.loguniform is not None
                if axis.integer:
                    params[group] = trial.suggest_int(group, math.ceil(low), math.floor(high), log=log)
                else:
                    params[group] = float(f"{trial.suggest_float(group, low, high, log=log):.12g}")
            else:
                params[group] = trial.suggest_categorical(group, axis.choice or grid_values(axis))
        return params


def _sampler(spec):
    import optuna

    if spec.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=spec.seed, population_size=max(spec.batch, 2))
    return optuna.samplers.TPESampler(seed=spec.seed, multivariate=True, constant_liar=True)


def _study(search: Sweep, folder: Path):
    """A fresh study in a fresh journal file (see the module docstring)."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    journal = folder / "study.journal"
    folder.mkdir(parents=True, exist_ok=True)
    journal.unlink(missing_ok=True)
    storage = JournalStorage(JournalFileBackend(str(journal)))
    directions = ["maximize" if goal == "max" else "minimize" for goal in search.spec.objectives.values()]
    return optuna.create_study(study_name=search.spec.name, storage=storage, sampler=_sampler(search.spec),
                               directions=directions)


def run_search(search: Sweep, folder=None, *, jobs: int = 1, cluster=None, evaluator: Optional[str] = None,
               progress: bool = True) -> SearchResult:
    """Run (or resume, or replay) a search; see the module docstring."""
    import optuna

    spec = search.spec
    folder = Path(folder) if folder else default_folder(search)
    resolver = Resolver(search, evaluator)
    check_inputs(search, resolver)
    workload = spec.workloads[0]
    label = workload_label(search, workload)
    constraints = [Expression(text, set(spec.axes)) for text in spec.constraints]
    space = Space(search)
    for name in spec.objectives:
        if name in DERIVED and DERIVED[name][1]:
            deployment_area(resolver.task(workload, space.first())).require(f"objective {name}")
    study = _study(search, folder)
    trials: list[Trial] = []
    computed = infeasible = 0
    # one Dask client for all rounds (the executors leave a client they are given open); local pools
    # start per round, since a round's results decide the next round's designs
    client = connect(cluster) if cluster is not None else None
    with closing(client) if client is not None and client is not cluster else nullcontext(), \
            open_store(folder / "points.jsonl", "recomputing") as store, \
            tqdm(total=spec.budget, unit="trial", desc=spec.name, disable=not progress, file=sys.stderr,
                 dynamic_ncols=True) as bar:
        while len(trials) < spec.budget:
            asked = []
            while len(asked) < min(spec.batch, spec.budget - len(trials)):
                trial = study.ask()
                params = space.suggest(trial)
                if satisfies(constraints, params):
                    asked.append((trial, resolver.point(trial.number, workload, params, label)))
                    continue
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                infeasible += 1
                if infeasible > MAX_INFEASIBLE_PER_TRIAL * spec.budget:
                    raise ValueError(f"search {spec.name}: the constraints rejected {infeasible} proposals; "
                                     f"loosen them or narrow the axes")
            pending = {p.key: p for _, p in asked if p.key not in store}
            with closing(run_points(((p.key, p.task) for p in pending.values()), jobs=jobs,
                                    cluster=client)) as results:
                for key, result in results:
                    point = pending[key]
                    store.add({"key": key, "inputs": point.inputs, **result, "hwsim": hwsim_version(),
                               "workload": point.workload, "params": point.params})
            computed += len(pending)
            for trial, point in asked:
                trials.append(_tell(study, search, trial, point, store.get(point.key)))
                bar.update()
            bar.set_postfix(stored=len(trials) - computed, refresh=False)
    by_number = {t.number: t for t in trials}
    best = sorted((by_number[t.number] for t in study.best_trials), key=lambda t: t.number)
    first = {}
    for trial in best:                                   # a design once, at its first trial
        first.setdefault(trial.point.key, trial)
    front = list(first.values())
    return SearchResult(search, trials, front, computed, infeasible, folder)


def non_dominated(values: dict, goals: list[str]) -> set:
    """Keys of `values` (key -> objective values) that no other entry beats: at least as good on every
    objective (goals 'max' or 'min') and better on one."""
    signs = [1 if goal == "max" else -1 for goal in goals]
    scored = {key: [s * v for s, v in zip(signs, vector)] for key, vector in values.items()}

    def beats(a, b):
        return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))

    return {key for key, vector in scored.items() if not any(beats(other, vector) for other in scored.values())}


def grid_front(search: Sweep, store_path, *, jobs: int = 1, cluster=None, evaluator: Optional[str] = None,
               progress: bool = False) -> tuple[int, set]:
    """Evaluate every design of the search's axes as a sweep (a small space only) and return how many
    designs there are and the point keys of the grid's Pareto front: what a search is measured against."""
    result = run_sweep(search, store_path, jobs=jobs, cluster=cluster, evaluator=evaluator, progress=progress)
    values = {}
    for point in result.points:
        record = result.record(point)
        if record and record["status"] == "ok":
            values[point.key] = objective_values(search, point, record["metrics"])
    return len(result.points), non_dominated(values, list(search.spec.objectives.values()))


def _tell(study, search: Sweep, trial, point: Point, record: dict) -> Trial:
    """Give the sampler one result; a failed point (or one without area) is a failed trial."""
    import optuna

    if record["status"] == "ok":
        try:
            values = objective_values(search, point, record["metrics"])
        except (ArithmeticError, ValueError) as exc:   # AreaUnknown, a zero energy
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return Trial(trial.number, point.params, point, record, None, str(exc))
        study.tell(trial, values)
        return Trial(trial.number, point.params, point, record, values)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return Trial(trial.number, point.params, point, record, None, record["error"])
