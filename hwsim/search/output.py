"""What a search leaves behind: the Pareto front as a table, CSV and plot, the optimisation history
plot, every trial as CSV, and each front design as a machine file that `hwsim run` accepts."""
from __future__ import annotations

import csv
from pathlib import Path

import yaml

from hwsim.search.run import SearchResult, Trial
from hwsim.sweep.plots import COLORS, _save, plt
from hwsim.sweep.points import serving_block
from hwsim.sweep.summary import table

FRONT_SHOWN = 20


def _objectives(result: SearchResult) -> list[str]:
    return list(result.search.spec.objectives)


def _row(result: SearchResult, trial: Trial) -> list:
    values = trial.values or [None] * len(_objectives(result))
    return [trial.number, *trial.params.values(), *values]


def front_table(result: SearchResult) -> str:
    """The summary and the front, as aligned text."""
    spec = result.search.spec
    failed = [t for t in result.trials if t.values is None]
    goals = ", ".join(f"{name} ({goal})" for name, goal in spec.objectives.items())
    lines = [f"search {spec.name}: {len(result.trials)} trials ({spec.sampler}, seed {spec.seed}), "
             f"{result.computed} evaluated now, {len(result.trials) - result.computed} from the store, "
             f"{len(failed)} failed" + (f"; constraints rejected {result.infeasible} proposals" if result.infeasible
                                        else ""),
             f"Pareto front of {goals}: {len(result.front)} designs"]
    header = ["trial", *spec.axes, *spec.objectives]
    lines += ["  " + line for line in table(header, [_row(result, t) for t in result.front[:FRONT_SHOWN]])]
    if len(result.front) > FRONT_SHOWN:
        lines.append(f"  ... and {len(result.front) - FRONT_SHOWN} more (front.csv)")
    errors = dict.fromkeys(t.error for t in failed)
    lines += [f"  failed: {error}" for error in list(errors)[:5]]
    return "\n".join(lines)


def write_csv(result: SearchResult, path: Path, trials: list[Trial]) -> Path:
    spec = result.search.spec
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["trial", *spec.axes, *spec.objectives, "status", "error", "key"])
        for trial in trials:
            writer.writerow([*_row(result, trial), trial.record["status"], trial.error, trial.point.key])
    return path


def plot_front(result: SearchResult, output: Path) -> list[Path]:
    """Every trial in grey, the front in colour; a third objective colours the points."""
    names = _objectives(result)
    done = [t for t in result.trials if t.values is not None]
    front = result.front
    fig, ax = plt.subplots(figsize=(7, 5))
    if len(names) == 1:
        ax.plot([t.number for t in done], [t.values[0] for t in done], "o", color="0.7")
        ax.set_xlabel("trial")
        ax.set_ylabel(names[0])
    else:
        ax.scatter([t.values[0] for t in done], [t.values[1] for t in done], color="0.75", s=18, label="trials")
        color = {"c": [t.values[2] for t in front], "cmap": "viridis"} if len(names) == 3 else {"color": COLORS[0]}
        points = ax.scatter([t.values[0] for t in front], [t.values[1] for t in front], s=40, zorder=3,
                            label="Pareto front", **color)
        if len(names) == 3:
            fig.colorbar(points, ax=ax, label=names[2])
        for t in front:
            ax.annotate(f"#{t.number}", (t.values[0], t.values[1]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        ax.set_xlabel(f"{names[0]} ({result.search.spec.objectives[names[0]]})")
        ax.set_ylabel(f"{names[1]} ({result.search.spec.objectives[names[1]]})")
        ax.legend(loc="best", fontsize=8)
    ax.set_title(f"{result.search.spec.name}: Pareto front")
    return _save(fig, output)


def plot_history(result: SearchResult, output: Path) -> list[Path]:
    """Each objective against the trial number, with the best value so far."""
    names = _objectives(result)
    fig, axes = plt.subplots(len(names), 1, figsize=(7, 2.6 * len(names)), sharex=True, squeeze=False)
    for ax, (index, name) in zip(axes[:, 0], enumerate(names)):
        done = [t for t in result.trials if t.values is not None]
        better = max if result.search.spec.objectives[name] == "max" else min
        best, running = [], None
        for t in done:
            running = t.values[index] if running is None else better(running, t.values[index])
            best.append(running)
        ax.plot([t.number for t in done], [t.values[index] for t in done], "o", color="0.6", ms=4)
        ax.step([t.number for t in done], best, where="post", color=COLORS[0], label="best so far")
        ax.set_ylabel(name)
        ax.legend(loc="best", fontsize=8)
    axes[-1, 0].set_xlabel("trial")
    axes[0, 0].set_title(f"{result.search.spec.name}: optimisation history")
    return _save(fig, output)


def write_machines(result: SearchResult, folder: Path) -> list[Path]:
    """One machine file per front design (its axis values applied to the base machine)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    spec = result.search.spec
    for trial in result.front:
        machine = dict(trial.point.task["machine"])
        machine["name"] = f"{machine['name']}-{spec.name}-{trial.number}"
        settings = ", ".join(f"{k}={v}" for k, v in trial.params.items())
        machine["description"] = f"{machine.get('description', '')} Search {spec.name}, trial {trial.number}: {settings}."
        options = trial.point.task["options"]     # `hwsim run FILE` runs the searched workload
        machine["defaults"] = {"model": spec.workloads[0].model, "phase": options["phase"],
                               "batch": options["batch"], "context": options["context"]}
        if options.get("precision"):
            machine["precision"] = options["precision"]
        objectives = ", ".join(f"{n} {v:.4g}" for n, v in zip(spec.objectives, trial.values))
        path = folder / f"{spec.name}-{trial.number}.yaml"
        path.write_text(f"# Pareto design of search '{spec.name}', trial {trial.number} ({trial.point.workload}): "
                        f"{objectives}\n# axes on model, workload or serving paths are not part of a machine file\n"
                        + yaml.safe_dump(machine, sort_keys=False))
        paths.append(path)
        if spec.serving:
            paths.append(write_serving(result, trial, path, objectives))
    return paths


def write_serving(result: SearchResult, trial: Trial, machine_file: Path, objectives: str) -> Path:
    """A serving file (`hwsim serve FILE`) of a front design of a serving search: its machine file, the
    searched model and formats, and the serving block with the trial's serving axes applied."""
    search, task = result.search, trial.point.task
    block = serving_block(search, trial.params)
    for keys, resolved in ((("requests", "trace"), task["serving"]["requests"]),
                           (("disaggregation", "decode_machine"), task["serving"]["decode_machine"])):
        if resolved and Path(resolved).is_file():      # a file named relative to the search file
            block[keys[0]][keys[1]] = str(Path(resolved).resolve())
    serving = {"machine": machine_file.name, "model": search.spec.workloads[0].model,
               **({"precision": task["options"]["precision"]} if task["options"].get("precision") else {}), **block}
    path = machine_file.with_name(f"{machine_file.stem}-serving.yaml")
    path.write_text(f"# hwsim serve {path.name}: Pareto design of search '{search.spec.name}', trial "
                    f"{trial.number}: {objectives}\n" + yaml.safe_dump(serving, sort_keys=False))
    return path


def write_outputs(result: SearchResult) -> list[Path]:
    folder = result.folder
    written = [write_csv(result, folder / "trials.csv", result.trials),
               write_csv(result, folder / "front.csv", result.front)]
    if any(t.values for t in result.trials):
        written += plot_front(result, folder / "pareto.png")[:1] + plot_history(result, folder / "history.png")[:1]
    return written + write_machines(result, folder / "best")
