"""`hwsim sweep` and `hwsim plot`: the lead's parser calls `add_sweep_commands(subparsers)`."""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from hwsim.config.errors import print_errors

SWEEP_EXAMPLES = """examples:
  hwsim sweep sweeps/a100_hbm_vs_compute.yaml -j 2
  hwsim sweep sweeps/h100_batch_context.yaml --cluster tcp://scheduler:8786
  hwsim sweep sweeps/a100_hbm_vs_compute.yaml --dry-run      # count points, validate, run nothing
"""
PLOT_EXAMPLES = """examples:
  hwsim plot pareto sweeps/h100_batch_context.yaml --x tokens_per_s --y energy_per_token_j
  hwsim plot param sweeps/a100_hbm_vs_compute.yaml --param bw --metric tokens_per_s --fix peak=400
  hwsim plot breakdown sweeps/h100_batch_context.yaml
  hwsim plot roofline sweeps/h100_batch_context.yaml --point 3
"""

REUSE_STALE_HELP = ("use stored results of another simulator build (its code or shipped YAML differed) "
                    "instead of recomputing them")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that a terminated sweep stops its workers and keeps its store."""


def _terminate(signum, frame):
    raise Terminated


def interruptible(command: str, store: Path, run):
    """(run(), None), or (None, exit status) after one line when it is interrupted (Ctrl-C, or SIGTERM,
    raised like Ctrl-C meanwhile so that workers stop and the store keeps every finished point) or
    fails to start (a RuntimeError, e.g. --cluster without Dask installed)."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(), None
    except KeyboardInterrupt as exc:
        print(f"interrupted: finished points are kept in {store}; run the same command again to resume",
              file=sys.stderr)
        return None, 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)
    except RuntimeError as exc:
        print_errors(exc, f"hwsim {command}")
        return None, 2
    finally:
        signal.signal(signal.SIGTERM, previous)


def output_folder(sweep, out) -> Path:
    from hwsim.sweep.run import default_store

    return Path(out) if out else default_store(sweep).parent


def _sweep(args) -> int:
    from hwsim.sweep.export import PARQUET_HINT, write_csv, write_parquet
    from hwsim.sweep.points import expand
    from hwsim.sweep.run import run_sweep
    from hwsim.sweep.spec import load_sweep
    from hwsim.sweep.summary import summary

    sweep = load_sweep(args.file)
    folder = output_folder(sweep, args.out)
    if args.dry_run:
        points, removed = expand(sweep, args.evaluator)
        print(f"sweep {sweep.spec.name}: valid, {len(points)} points"
              + (f" ({removed} removed by constraints)" if removed else "") + f"; store {folder / 'points.jsonl'}")
        return 0
    result, status = interruptible("sweep", folder / "points.jsonl", lambda: run_sweep(
        sweep, folder / "points.jsonl", jobs=args.jobs, cluster=args.cluster, evaluator=args.evaluator,
        retry_failed=args.retry_failed, reuse_stale=args.reuse_stale, progress=not args.quiet, limit=args.limit))
    if status is not None:
        return status
    print(summary(result))
    written = [write_csv(result, folder / "results.csv")]
    if args.parquet:
        try:
            written.append(write_parquet(result, folder / "results.parquet"))
        except RuntimeError:
            print(f"  {PARQUET_HINT}")
    print(f"  wrote {', '.join(str(p) for p in written)} (store: {folder / 'points.jsonl'})")
    return 0


def _plot(args) -> int:
    from hwsim.sweep import plots
    from hwsim.sweep.run import read_results
    from hwsim.sweep.spec import load_sweep

    sweep = load_sweep(args.file)
    folder = output_folder(sweep, args.out_dir)
    if args.kind == "roofline":
        paths = plots.plot_point_roofline(sweep, args.point, args.output or folder / f"roofline-{args.point}.png")
    else:
        result = read_results(sweep, folder / "points.jsonl", args.evaluator, args.reuse_stale)
        if not result.records:
            raise ValueError(f"no results of this simulator build in {folder / 'points.jsonl'}: run "
                             f"'hwsim sweep {args.file}' first (or plot older results with --reuse-stale)")
        fixed = dict(item.split("=", 1) for item in args.fix or [])
        default = {"pareto": f"pareto-{args.x}-{args.y}.png", "param": f"{args.metric}-vs-{args.param}.png",
                   "breakdown": "breakdown.png"}[args.kind]
        output = args.output or folder / default
        if args.kind == "pareto":
            paths = plots.plot_pareto(result, args.x, args.y, output)
        elif args.kind == "param":
            if not args.param:
                raise ValueError(f"plot param needs --param, one of: {', '.join(sweep.spec.axes)}")
            paths = plots.plot_metric_vs_param(result, args.param, args.metric, fixed, output)
        else:
            paths = plots.plot_breakdown(result, output, fixed)
    print(f"wrote {', '.join(str(p) for p in paths)}")
    return 0


def add_executor_arguments(parser) -> None:
    """Where and how points are evaluated: -j, --cluster, --evaluator, --quiet (sweep and search)."""
    parser.add_argument("-j", "--jobs", type=int, default=1, help="local worker processes (default: 1)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="run on a Dask distributed scheduler, e.g. tcp://host:8786 (needs hwsim[cluster])")
    parser.add_argument("--evaluator", metavar="MODULE:FUNCTION",
                        help="evaluate points with your own function(task) -> metrics dict instead of "
                             "hwsim.simulate (a surrogate model, a test double); it becomes part of each key")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_sweep_commands(subparsers) -> None:
    """Add `sweep` and `plot` to the `hwsim` command's subparsers."""
    sweep = subparsers.add_parser(
        "sweep", help="run a design-space sweep (local processes or a Dask cluster)",
        description="Evaluate every point of a sweep file. Finished points are stored in OUT/points.jsonl "
                    "and never recomputed by the same simulator build, so an interrupted sweep resumes where "
                    "it stopped; results of another build (its code or shipped YAML differed) are recomputed "
                    "unless --reuse-stale. Prints the best points per objective and the failures; writes "
                    "OUT/results.csv.",
        epilog=SWEEP_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sweep.add_argument("file", help="sweep file (see sweeps/)")
    add_executor_arguments(sweep)
    sweep.add_argument("--out", help="output folder (default: results/sweeps/<sweep name>)")
    sweep.add_argument("--retry-failed", action="store_true", help="evaluate stored failed points again")
    sweep.add_argument("--reuse-stale", action="store_true", help=REUSE_STALE_HELP)
    sweep.add_argument("--limit", type=int, help="evaluate at most this many new points")
    sweep.add_argument("--parquet", action="store_true", help="also write results.parquet (needs pyarrow)")
    sweep.add_argument("--dry-run", action="store_true", help="validate and count the points, run nothing")
    sweep.set_defaults(handler=_sweep)

    plot = subparsers.add_parser(
        "plot", help="plot a sweep's results (Pareto front, metric vs parameter, breakdown, roofline)",
        description="Plot stored sweep results as PNG and SVG. 'roofline' simulates one point again to "
                    "place its operators.", epilog=PLOT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    plot.add_argument("kind", choices=["pareto", "param", "breakdown", "roofline"])
    plot.add_argument("file", help="the sweep file that produced the results")
    plot.add_argument("--x", default="tokens_per_s", help="pareto: metric on x (default: tokens_per_s)")
    plot.add_argument("--y", default="energy_per_token_j", help="pareto: metric on y (default: energy_per_token_j)")
    plot.add_argument("--param", help="param: the parameter on x")
    plot.add_argument("--metric", default="tokens_per_s", help="param: the metric on y (default: tokens_per_s)")
    plot.add_argument("--fix", action="append", metavar="NAME=VALUE",
                      help="param/breakdown: hold a parameter at a value (repeatable; default: the best "
                           "point's values)")
    plot.add_argument("--point", type=int, default=0, help="roofline: point index (see results.csv)")
    plot.add_argument("--out-dir", help="the sweep's output folder (default: results/sweeps/<sweep name>)")
    plot.add_argument("-o", "--output", help="image path (.png; an .svg is written beside it)")
    plot.add_argument("--evaluator", metavar="MODULE:FUNCTION", help="the --evaluator the sweep ran with, if any")
    plot.add_argument("--reuse-stale", action="store_true", help=REUSE_STALE_HELP)
    plot.set_defaults(handler=_plot)
