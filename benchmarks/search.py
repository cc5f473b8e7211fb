"""Evaluations a search needs against the grid, on a space small enough to enumerate.

Runs every design of a search file's axes as a sweep (the grid and its Pareto front), then the search
itself for each seed, each into a fresh store, and prints per seed: the distinct designs the search
evaluated, the share of the grid's front it found, and the ratio grid designs / search evaluations.
Default: sweeps/pim_gpt_search.yaml (180 designs before its constraint; about a second each).

    python benchmarks/search.py [--search FILE] [--budget N] [--seeds 0,1,2] [-j 2]
"""
import argparse
import tempfile
from pathlib import Path

from hwsim.search.run import grid_front, run_search
from hwsim.search.spec import load_search
from hwsim.sweep.spec import Sweep

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--search", default=str(ROOT / "sweeps" / "pim_gpt_search.yaml"))
    parser.add_argument("--budget", type=int, help="trials per search (default: the file's)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("-j", "--jobs", type=int, default=1)
    args = parser.parse_args()
    search = load_search(args.search)
    if args.budget:
        search.spec = search.spec.model_copy(update={"budget": args.budget})
    with tempfile.TemporaryDirectory() as folder:
        designs, front = grid_front(search, Path(folder) / "grid" / "points.jsonl", jobs=args.jobs, progress=True)
        print(f"{search.spec.name}: grid of {designs} designs, Pareto front of {len(front)} "
              f"({', '.join(f'{n} {g}' for n, g in search.spec.objectives.items())})")
        print(f"{'seed':>4}  {'trials':>6}  {'evaluated':>9}  {'front found':>11}  {'grid / evaluated':>16}")
        for seed in (int(s) for s in args.seeds.split(",")):
            seeded = Sweep(search.spec.model_copy(update={"seed": seed}), search.source, search.path)
            result = run_search(seeded, Path(folder) / f"search-{seed}", jobs=args.jobs, progress=False)
            found = len({t.point.key for t in result.front} & front)
            print(f"{seed:>4}  {len(result.trials):>6}  {result.computed:>9}  {found:>4} of {len(front):<4}  "
                  f"{designs / result.computed:>16.2f}")


if __name__ == "__main__":
    main()
