"""`hwsim search`: the lead's parser calls `add_search_commands(subparsers)`."""
from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_SEARCH = Path(__file__).resolve().parents[2] / "sweeps" / "pim_gpt_search.yaml"
EXAMPLES = """examples:
  hwsim search                                   # the shipped example, sweeps/pim_gpt_search.yaml
  hwsim search sweeps/pim_gpt_search.yaml -j 2   # or --cluster tcp://scheduler:8786 (Dask)
  hwsim search sweeps/npu_area_search.yaml --budget 60
  hwsim search sweeps/serving_search.yaml        # A100 replicas x scheduler x token budget, goodput per USD
  hwsim search sweeps/serving_split_search.yaml  # A100s split between prefill and decode pools

A search file is a sweep file (machine, workloads, axes, constraints) plus
  objectives: {tokens_per_s: max, tokens_per_j: max}   # 1 to 3, min or max
  budget: 40          # trials
  sampler: tpe        # multi-objective TPE, or nsga2
  seed: 0             # same file + seed = same trials and front
  batch: 4            # trials proposed per round (evaluated in parallel)
Objectives: report metrics (tokens_per_s, latency_s, energy_per_token_j, energy_j, ...) and
tokens_per_j (= tokens/s per W), power_w, area_mm2, cost_usd, tokens_per_s_per_mm2,
tokens_per_s_per_usd. With a serving: block (and serving.* axes), serving metrics too: goodput_rps,
ttft_p99_s, tpot_p99_s, requests_per_s, energy_per_request_j, ... and goodput_rps_per_usd (area and
cost then count every replica). Area and cost need every component's `area:` (hwsim/search/area.py);
a machine with `area: unknown` components is refused.
"""


def _search(args) -> int:
    from hwsim.search.output import front_table, write_outputs
    from hwsim.search.run import default_folder, run_search
    from hwsim.search.spec import load_search
    from hwsim.sweep.cli import interruptible

    search = load_search(args.file or DEFAULT_SEARCH)
    if args.budget is not None:
        if args.budget < 1:
            raise ValueError(f"--budget must be at least 1, got {args.budget}")
        search.spec = search.spec.model_copy(update={"budget": args.budget})
    folder = Path(args.out) if args.out else default_folder(search)
    result, status = interruptible("search", folder / "points.jsonl", lambda: run_search(
        search, folder, jobs=args.jobs, cluster=args.cluster, evaluator=args.evaluator, progress=not args.quiet))
    if status is not None:
        return status
    print(front_table(result))
    written = write_outputs(result)
    best = [p for p in written if p.parent == folder / "best"]
    tables = ", ".join(str(p) for p in written if p not in best)
    print(f"  wrote {tables} and {len(best)} machine (and serving) files in {folder / 'best'} "
          f"(store: {folder / 'points.jsonl'})")
    return 0


def add_search_commands(subparsers) -> None:
    """Add `search` to the `hwsim` command's subparsers."""
    from hwsim.sweep.cli import add_executor_arguments

    search = subparsers.add_parser(
        "search", help="multi-objective design-space search (Optuna) over a sweep's axes",
        description="Find the Pareto front of a search file's objectives within its budget of trials: Optuna's "
                    "multi-objective TPE or NSGA-II proposes designs, local processes or a Dask cluster evaluate "
                    "them, and every result is stored at once in OUT/points.jsonl, so a killed search resumes "
                    "without recomputing and a finished one reruns from the store. Prints the front; writes "
                    "OUT/trials.csv, front.csv, pareto.png, history.png, study.journal (optuna-dashboard) and "
                    "OUT/best/*.yaml, machine files of the front designs that `hwsim run` accepts.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    search.add_argument("file", nargs="?", help="search file (default: the shipped PIM-GPT example)")
    add_executor_arguments(search)
    search.add_argument("--budget", type=int, help="trials (default: the file's budget)")
    search.add_argument("--out", help="output folder (default: results/searches/<search name>)")
    search.set_defaults(handler=_search)
