"""The `hwsim` command: run a model on a machine, list what ships, check published results."""
from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import sys
from pathlib import Path

from hwsim import defaults
from hwsim.config.errors import ConfigError, print_errors

EXAMPLES = """examples:
  hwsim run                                    # Llama-2-7B decode on an A100, batch 1, context 2048
  hwsim run tellme_kv260                       # the machine's defaults: (BitNet b1.58 0.7B, context 64)
  hwsim run architectures/nvidia_h100_sxm.yaml workloads/models/llama2-70b.yaml --weights fp8 --phase prefill --context 2048
  hwsim run nvidia_t4 gpt2-xl --weights fp16 --activations fp16 --kv fp16
  hwsim run nvidia_h100_sxm mixtral-8x7b --weights fp8 --batch 16 --routing zipf --zipf-s 1.2 --seed 3
  hwsim run edge_moe_flash mixtral-8x7b --weights int4 --steps 16 --routing affinity
  hwsim list
  hwsim validate
  hwsim sweep sweeps/h100_batch_context.yaml -j 2      # or --cluster tcp://scheduler:8786
  hwsim plot pareto sweeps/h100_batch_context.yaml --x tokens_per_s --y energy_per_token_j
  hwsim search sweeps/pim_gpt_search.yaml -j 2        # Pareto front by Optuna, resumable
"""


def _routing(args):
    """--routing uniform|zipf|affinity|FILE.npz -> RoutingSpec."""
    from hwsim.workload.routing import RoutingSpec

    if args.routing.endswith(".npz"):
        return RoutingSpec(kind="file", path=args.routing)
    if args.routing == "uniform":
        return RoutingSpec(kind="uniform")
    if args.routing in ("zipf", "affinity"):
        return RoutingSpec(kind=args.routing, s=args.zipf_s)
    raise ValueError(f"--routing must be uniform, zipf, affinity or a .npz file, got '{args.routing}'")


def _simulate(args, machine, model):
    """The report `hwsim run` asks for: a replayed trace file (model None), or a generated step."""
    from hwsim.step import run_trace, simulate
    from hwsim.workload.trace import Trace, generate_trace

    if args.trace:
        return run_trace(machine, Trace.load(args.trace), allow_overcommit=args.allow_overcommit)
    precision = machine.precision_for(model, weights=args.weights, activations=args.activations, kv_cache=args.kv)
    routing = _routing(args) if model.moe is not None else None
    if args.save_trace:
        generate_trace(model, args.phase, args.batch, args.context, precision, routing, args.seed).save(args.save_trace)
        print(f"  saved the {args.phase} trace to {args.save_trace} (replay: hwsim run MACHINE --trace FILE)")
    return simulate(machine, model, phase=args.phase, batch=args.batch, context=args.context,
                    precision=precision, routing=routing, seed=args.seed, steps=args.steps,
                    allow_overcommit=args.allow_overcommit)


def _file_digest(path) -> str:
    """SHA-256 of a file's bytes: an input file counts by its contents, not its name."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _inputs(args, machine, model) -> dict:
    """What a run read that changes its result beyond the report's own fields, for the run folder's
    hash: the machine as loaded (extends: applied, so two files with one stem differ), the model or
    the replayed trace file's contents, and the MoE routing (with a recorded routing file's contents)."""
    inputs = {"machine": machine.spec.model_dump(mode="json")}
    if args.trace:
        return {**inputs, "trace": _file_digest(args.trace)}
    inputs["model"] = model.model_dump(mode="json")
    if model.moe is not None:
        routing = _routing(args)
        inputs["routing"] = routing.model_dump(mode="json")
        if routing.path:
            inputs["routing_file"] = _file_digest(routing.path)
    return inputs


def fill_workload(args, machine=None) -> argparse.Namespace:
    """Fill the model, --phase, --batch and --context the user left out (None) from the machine's
    defaults:, else hwsim.defaults: the rule of ``Machine.workload``, which hwsim.simulate uses too.
    ``machine``: the loaded machine of ``args.machine``, if the caller has it already."""
    from hwsim.machine import load_machine

    machine = machine or load_machine(args.machine)
    vars(args).update(machine.workload(args.model, args.phase, args.batch, args.context)._asdict())
    return args


def _run(args) -> int:
    from hwsim.report.export import run_folder, write_all

    from hwsim.machine import load_machine
    from hwsim.workload.model import load_model

    machine = load_machine(args.machine)           # loaded once for the defaults, the run and the folder name
    fill_workload(args, machine)
    model = None if args.trace else load_model(args.model)
    report = _simulate(args, machine, model)
    print(report.summary())
    out = Path(args.out) if args.out else run_folder(report, Path(str(args.machine)).stem,
                                                     _inputs(args, machine, model))
    paths = write_all(report, out, plots=not args.no_plots)
    print(f"  wrote {', '.join(str(p) for p in paths)}")
    print("  open trace.json in https://ui.perfetto.dev to see the timeline")
    return 0


def _list(args) -> int:
    from hwsim.components.base import REGISTRY, component_types
    from hwsim.machine import load_machine, shipped_machines
    from hwsim.workload.model import load_model, shipped_models
    from hwsim.workload.params import count_params

    print("architectures (architectures/*.yaml):")
    for name in shipped_machines():
        machine = load_machine(name)
        print(f"  {name:<28} {machine.spec.description}")
    print("models (workloads/models/*.yaml):")
    for name in shipped_models():
        model = load_model(name)
        counts = count_params(model)
        active = f", {counts.active / 1e9:.2f}B active" if model.moe else ""
        print(f"  {name:<28} {counts.total / 1e9:7.2f}B params{active}  ({model.family})")
    print("component types (type: in a machine file):")
    for name in component_types():
        cls = REGISTRY[name]
        doc = (cls.__doc__ or sys.modules[cls.__module__].__doc__ or "").strip()
        print(f"  {name:<28} {doc.splitlines()[0] if doc else ''}")
    return 0


def _validate(args) -> int:
    from hwsim.validate.runner import run_validation

    validation = run_validation(args.targets, only=args.only, every_row=args.all)
    if args.plot is not None:
        from hwsim.validate.document import write_document
        command = ["hwsim", "validate", *(["--targets", args.targets] if args.targets else []),
                   *(f"--only={group}" for group in args.only or ()), "--plot", args.plot]
        for path in write_document(validation, Path(args.plot), shlex.join(command)):
            print(f"wrote {path}")
    return 0 if validation.passed else 1


def _machine_else(fallback) -> str:
    """The help text of a default that a machine's defaults: block can set (see fill_workload)."""
    return f"the machine's defaults:, else {fallback}"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="hwsim", description="Cycle-level simulator of LLM and MoE inference hardware.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run", help="simulate one inference step and write a report",
        description="Simulate one prefill or decode step of MODEL on MACHINE. Prints tokens/s, latency, "
                    "energy and the binding resource; writes report.json, ops.csv, trace.json (Perfetto) "
                    "and PNG plots.", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("machine", nargs="?", default=defaults.MACHINE,
                     help=f"architecture file or shipped name (default: {defaults.MACHINE})")
    # model, phase, batch, context: None when not given, filled by fill_workload
    run.add_argument("model", nargs="?",
                     help=f"model file or shipped name (default: {_machine_else(defaults.MODEL)})")
    run.add_argument("--phase", choices=["prefill", "decode"],
                     help="prefill: process the prompt (time to first token); decode: one new token "
                          f"per sequence (default: {_machine_else(defaults.PHASE)})")
    run.add_argument("--batch", type=int,
                     help=f"sequences in the batch (default: {_machine_else(defaults.BATCH)})")
    run.add_argument("--context", type=int,
                     help=f"prompt tokens (prefill) or tokens already in the KV cache (decode) "
                          f"(default: {_machine_else(defaults.CONTEXT)})")
    run.add_argument("--steps", type=int, default=defaults.STEPS,
                     help=f"decode steps to run back to back (expert caches warm up across them); "
                          f"default {defaults.STEPS}")
    run.add_argument("--weights", help="weight format, e.g. bf16, fp16, int8, int4, ternary "
                                       "(default: the machine's precision:, else the model's)")
    run.add_argument("--activations", help="activation format (default: the machine's, else the model's)")
    run.add_argument("--kv", help="KV-cache format (default: the machine's precision: kv_cache, else the model's "
                                  "activation format; --activations does not change it)")
    run.add_argument("--routing", default="uniform",
                     help="MoE routing: uniform, zipf, affinity, or a recorded routing .npz file (default: uniform)")
    run.add_argument("--zipf-s", type=float, default=1.0,
                     help="Zipf exponent of expert popularity for --routing zipf/affinity (default: 1.0)")
    run.add_argument("--seed", type=int, default=defaults.SEED,
                     help=f"seed of the MoE routing generator (default: {defaults.SEED})")
    run.add_argument("--save-trace", metavar="FILE", help="also write the step's operator trace (JSON, versioned)")
    run.add_argument("--trace", metavar="FILE",
                     help="replay a saved or hand-written trace file instead of generating one (MODEL is ignored)")
    run.add_argument("--allow-overcommit", action="store_true",
                     help="run even if the model, KV cache and activations do not fit the machine's memories "
                          "(what-if): the summary says OVERCOMMITTED and report.json flags memory.overcommitted")
    run.add_argument("--out", help="output folder (default: results/<machine>-<model>-<phase>-b<batch>-c<context>-<hash>, "
                                   "the hash covering every other input that changes the result)")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.set_defaults(handler=_run)

    listing = commands.add_parser("list", help="show shipped architectures, models and component types")
    listing.set_defaults(handler=_list)

    validate = commands.add_parser(
        "validate", help="compare this build with the published results it must reproduce",
        description="Run every published target this build can run and print target, published value, "
                    "hwsim's value, error and pass/fail; list the targets it cannot run yet. Exit 1 on a failure.")
    validate.add_argument("--targets", help="targets file (default: ../shared/validation/targets.yaml if present, "
                                            "else the copy shipped with hwsim)")
    validate.add_argument("--only", action="append", help="run only this target group (repeatable)")
    validate.add_argument("--all", action="store_true",
                          help="print every INFO row (default: one summary line per group for its tabulated ones)")
    validate.add_argument("--plot", nargs="?", const="docs", metavar="DIR",
                          help="also write DIR/validation.md (every row, counts, the checks' reasons) and its "
                               "parity plot DIR/validation/parity.png (default DIR: docs)")
    validate.set_defaults(handler=_validate)

    from hwsim.sweep.cli import add_sweep_commands
    add_sweep_commands(commands)
    from hwsim.serving.cli import add_serve_command
    add_serve_command(commands)
    from hwsim.search.cli import add_search_commands
    add_search_commands(commands)
    return top


def run_handler(args, prog: str = "hwsim") -> int:
    """Run a subcommand; bad input (config, missing file, bad value) or an unreachable resource (a
    refused connection, a disk error) exits 2 after one `prog: error: ...` line per problem (a
    ConfigError lists every problem of a file). A closed output pipe is not an error of the run: it
    goes up to `main`, which ends quietly."""
    try:
        return args.handler(args)
    except BrokenPipeError:
        raise
    except (ConfigError, OSError, ValueError) as exc:
        print_errors(exc, prog)
        return 2


def _command(argv) -> int:
    """Parse `argv` and run its subcommand; `hwsim` alone prints the help."""
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 0
    return run_handler(args)


def main(argv=None) -> int:
    """The `hwsim` command; returns its exit status.

    Output cut short by its reader (`hwsim list | head -1`) ends quietly with status 141 (128 +
    SIGPIPE, what a shell reports for a command killed by a closed pipe) instead of a BrokenPipeError
    traceback: stdout is flushed here, also when argparse exits after --help, so the error surfaces
    inside the try, then pointed at devnull so the interpreter's own flush at exit does not raise
    again (the recipe of Python's signal module docs).
    """
    try:
        try:
            return _command(argv)
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
