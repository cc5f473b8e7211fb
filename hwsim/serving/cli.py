"""``hwsim serve``: a request stream on a machine, printed as a summary and written as
requests.csv, iterations.csv and summary.json."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from hwsim import defaults
from hwsim.serving.kv import KV_LINK, SWAP_LINK
from hwsim.serving.requests import ARRIVALS, OUTPUT, PROMPT
from hwsim.serving.routers import ROUTERS
from hwsim.serving.schedulers import MAX_SEQS, PREEMPTIONS, SCHEDULERS

EXAMPLES = """examples:
  hwsim serve                                  # 50 Poisson requests at 4/s, Llama-2-7B on an A100
  hwsim serve nvidia_a100_80gb llama2-7b --rate 4 --requests 1000 --scheduler chunked --slo-ttft 1s --slo-tpot 100ms
  hwsim serve nvidia_h100_sxm llama3-8b --trace workloads/requests/azure_conv_like.csv
  hwsim serve workloads/requests/a100_chat.yaml    # a serving file: machine, requests, policy, SLOs
  hwsim serve workloads/requests/a100_capacity.yaml   # a serving file with capacity_goal: a capacity search
  hwsim serve nvidia_a100_80gb llama2-7b --arrival gamma --cv 3 --prompt uniform:128:2048 --output fixed:256
"""
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
OPTIONS = {   # option -> its key in a serving file (hwsim/serving/spec.py), which a serving file gives instead
    "requests": ("requests", "count"), "rate": ("requests", "rate"), "arrival": ("requests", "arrival"),
    "cv": ("requests", "cv"), "prompt": ("requests", "prompt"), "output": ("requests", "output"),
    "trace": ("requests", "trace"), "seed": ("requests", "seed"), "scheduler": ("scheduler", "policy"),
    "max_seqs": ("scheduler", "max_seqs"), "max_tokens": ("scheduler", "max_tokens"),
    "preemption": ("scheduler", "preemption"), "swap_link": ("scheduler", "swap_link"),
    "block_size": ("kv", "block_size"), "kv_tokens": ("kv", "tokens"), "replicas": ("replicas", "count"),
    "router": ("replicas", "router"), "decode_machine": ("disaggregation", "decode_machine"),
    "kv_link": ("disaggregation", "kv_link"), "decode_replicas": ("disaggregation", "decode_replicas"),
    "slo_ttft": ("slo", "ttft"), "slo_tpot": ("slo", "tpot"),
    "bucket": ("bucket",), "weights": ("precision", "weights"), "activations": ("precision", "activations"),
    "kv": ("precision", "kv_cache"), "capacity_goal": ("capacity_goal", "attainment"),
}


def duration(text: str) -> float:
    """'1s', '100ms', '250us' or a bare number of seconds -> seconds."""
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(s|ms|us)?\s*", text)
    try:
        return float(match.group(1)) * UNITS[match.group(2) or "s"]
    except (AttributeError, ValueError):
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration like 1s, 100ms or 250us") from None


def _serving(args):
    """The run the command line describes: a serving file, or a ServingFile built from the options."""
    from hwsim.config.loader import SourceMap
    from hwsim.serving.spec import is_serving_file, load_serving, serving_from_dict

    if is_serving_file(args.machine):
        given = [f"--{name.replace('_', '-')}" for name in OPTIONS if getattr(args, name) != args.parser.get_default(name)]
        if args.model or given:
            raise ValueError(f"{args.machine} is a serving file; give "
                             f"{', '.join(given) or 'the model'} in it, not on the command line")
        return load_serving(args.machine)
    if args.decode_machine is None and args.decode_replicas != 1:
        raise ValueError("--decode-replicas counts copies of --decode-machine; give --decode-machine too")
    data: dict = {"machine": args.machine, "model": args.model}
    for name, path in OPTIONS.items():
        if path[0] == "disaggregation" and args.decode_machine is None or getattr(args, name) is None:
            continue
        value = getattr(args, name)
        *parents, key = path
        node = data
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = f"{value}s" if path[0] == "slo" else value
    flags = {path: (f"hwsim serve --{name.replace('_', '-')}", None) for name, path in OPTIONS.items()}
    return serving_from_dict(data, SourceMap("hwsim serve", flags))


def _serve(args) -> int:
    from tqdm import tqdm

    serving = _serving(args)
    goal = serving.spec.capacity_goal
    if goal is not None:
        found = serving.capacity()
        print(f"capacity: {found.rate:.3f} req/s keep SLO attainment >= {goal.attainment:.0%} "
              f"({len(found.tried)} runs: " + ", ".join(f"{r:.3g}/s {a:.0%}" for r, a in found.tried) + ")")
        if found.report is None:
            return 1
        report = found.report
    else:
        with tqdm(total=serving.spec.requests.count, unit="req", desc="serving", disable=args.no_progress) as bar:
            report = serving.run(progress=bar.update)
    print(report)
    out = Path(args.out) if args.out else Path("results") / (
        f"serve-{Path(str(args.machine)).stem}-{report.model}-{serving.spec.scheduler.policy}")
    folder = report.write(out)
    print(f"  wrote requests.csv, iterations.csv and summary.json in {folder}")
    return 0


def add_serve_command(commands) -> None:
    serve = commands.add_parser(
        "serve", help="serve a stream of requests and report TTFT, TPOT, throughput and SLO attainment",
        description="Serve requests on MACHINE with a batching policy. Each scheduler iteration (a mixed "
                    "batch of prompts, prompt chunks and decode tokens) is simulated on the machine's "
                    "components once per distinct shape; the KV cache is paged over the memory left "
                    "after the weights. Prints latency percentiles, throughput, SLO attainment, goodput "
                    "and energy; writes requests.csv (one row per request, rejected ones with their "
                    "reason), iterations.csv (batch size and KV blocks over time) and summary.json.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("machine", nargs="?", default=defaults.MACHINE,
                       help=f"architecture file or shipped name (default: {defaults.MACHINE}), or a serving file "
                            "(hwsim/serving/spec.py) that gives every option below but --out and --no-progress "
                            "(--capacity-goal as capacity_goal: {attainment, start_rate, max_rate})")
    serve.add_argument("model", nargs="?",
                       help="model file or shipped name "
                            f"(default: the machine's defaults: model, else {defaults.MODEL})")
    serve.add_argument("--requests", type=int, default=50, help="requests to serve (default: 50)")
    serve.add_argument("--rate", type=float, default=4.0, help="mean arrival rate, requests/s (default: 4)")
    serve.add_argument("--arrival", choices=ARRIVALS, default="poisson",
                       help="arrival process: poisson, gamma (burstiness --cv), constant (default: poisson)")
    serve.add_argument("--cv", type=float, default=1.0,
                       help="coefficient of variation of the gaps for --arrival gamma (1 = Poisson; default 1)")
    serve.add_argument("--prompt", default=PROMPT,
                       help=f"prompt lengths: fixed:N, uniform:LO:HI, lognormal:MEDIAN:SIGMA (default: {PROMPT}, "
                            "the Azure 2023 conversation trace's median and mean)")
    serve.add_argument("--output", default=OUTPUT, help=f"output lengths, same forms (default: {OUTPUT})")
    serve.add_argument("--trace", metavar="CSV",
                       help="replay a request trace instead: hwsim (arrival_s, prompt_tokens, output_tokens), "
                            "Azure LLM (TIMESTAMP, ContextTokens, GeneratedTokens) or BurstGPT columns; "
                            "the first --requests rows")
    serve.add_argument("--scheduler", default="continuous",
                       help=f"batching policy: {', '.join(SCHEDULERS)} (default: continuous)")
    serve.add_argument("--max-seqs", type=int, default=MAX_SEQS,
                       help=f"sequences per iteration (default: {MAX_SEQS}, vLLM's)")
    serve.add_argument("--max-tokens", type=int,
                       help="new tokens per iteration (default: chunked 512; others max(max_position, 2048))")
    serve.add_argument("--block-size", type=int, default=16, help="KV-cache block in tokens (default: 16)")
    serve.add_argument("--kv-tokens", type=int,
                       help="KV-cache capacity in tokens (default: the machine's memory left after the weights)")
    serve.add_argument("--preemption", choices=PREEMPTIONS, default="recompute",
                       help="when KV blocks run out: recompute the newest request, or swap its blocks to host "
                            "memory (4 GiB, vLLM's swap_space) over --swap-link (default: recompute)")
    serve.add_argument("--swap-link", default=SWAP_LINK, help=f"link preset swaps move over (default: {SWAP_LINK})")
    serve.add_argument("--replicas", type=int, default=1,
                       help="copies of the machine behind --router, each with its own scheduler and KV cache "
                            "(default: 1)")
    serve.add_argument("--router", default="round-robin",
                       help=f"which replica takes a request: {', '.join(ROUTERS)} (least outstanding tokens; "
                            "default: round-robin)")
    serve.add_argument("--decode-machine", metavar="MACHINE",
                       help="disaggregate: prompts on MACHINE above, decodes on this one (DistServe, Splitwise)")
    serve.add_argument("--decode-replicas", type=int, default=1,
                       help="copies of --decode-machine behind --router; --replicas then counts the prefill "
                            "machine's copies (DistServe's prefill and decode instances; default: 1)")
    serve.add_argument("--kv-link", default=KV_LINK,
                       help=f"link preset a disaggregated request's KV crosses (default: {KV_LINK})")
    serve.add_argument("--capacity-goal", type=float, metavar="SHARE",
                       help="search the highest rate (from --rate, doubling, then bisecting to 2.5%%) whose SLO "
                            "attainment is at least SHARE, e.g. 0.9 (Vidur's capacity search; DistServe's goodput)")
    serve.add_argument("--bucket", type=int, default=1,
                       help="round cached tokens up to a multiple of this before costing an iteration, so more "
                            "iterations share a simulation (default 1: exact; benchmarks/serving.py reports the error)")
    serve.add_argument("--slo-ttft", type=duration, default=1.0, help="time-to-first-token target (default: 1s)")
    serve.add_argument("--slo-tpot", type=duration, default=0.1, help="time-per-output-token target (default: 100ms)")
    serve.add_argument("--weights", help="weight format (default: the machine's precision:, else the model's)")
    serve.add_argument("--activations", help="activation format (default: the machine's, else the model's)")
    serve.add_argument("--kv", help="KV-cache format (default: the machine's, else the activation format)")
    serve.add_argument("--seed", type=int, default=defaults.SEED, help="seed of arrivals, lengths and MoE routing")
    serve.add_argument("--out", help="output folder (default: results/serve-<machine>-<model>-<scheduler>)")
    serve.add_argument("--no-progress", action="store_true", help="no progress bar")
    serve.set_defaults(handler=_serve, parser=serve)
