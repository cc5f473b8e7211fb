"""Measured GPU operator times from Vidur's profiles, kept as one compact table (data/vidur_ops.csv).

Vidur (github.com/microsoft/vidur) ships `data/profiling/compute/<gpu>/<model>/mlp.csv`: one
transformer block's operators (Sarathi-Serve's kernels, fp16) timed on real A100, A40 and H100 GPUs
by token count and tensor-parallel degree, each a min/median/max over 20 runs of the summed CUDA
kernel durations (torch profiler, `record_function` method: GPU time only, no launch gaps). The
table keeps, per (gpu, model, tp, tokens), the median time of each operator in microseconds (the
median over the profile's repeated rows), for the models hwsim ships and a token grid of powers of
two and three times powers of two. Only these figures are used; none of Vidur's code.

Regenerate: `python -m hwsim.validate.vidur <vidur git dir or checkout> > hwsim/validate/data/vidur_ops.csv`.
"""
from __future__ import annotations

import csv
import io
import statistics
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("data") / "vidur_ops.csv"

# Vidur operator -> the op of hwsim's trace (hwsim/workload/trace.py) that does the same work
OPERATORS = {"emb": "embedding", "input_layernorm": "attn_norm", "attn_pre_proj": "qkv", "attn_rope": "rope",
             "attn_post_proj": "o_proj", "post_attention_layernorm": "ffn_norm", "mlp_up_proj": "ffn.up",
             "mlp_act": "ffn.act", "mlp_down_proj": "ffn.down", "add": "ffn_residual"}
MODELS = {"meta-llama/Llama-2-7b-hf": "llama2-7b", "meta-llama/Llama-2-70b-hf": "llama2-70b",
          "meta-llama/Meta-Llama-3-8B": "llama3-8b", "meta-llama/Meta-Llama-3-70B": "llama3-70b"}
GPUS = ("a100", "a40", "h100")
TOKENS = sorted({2 ** i for i in range(16)} | {3 * 2 ** i for i in range(3, 14)})


@dataclass(frozen=True)
class Measured:
    """One profiled configuration: per-operator median kernel time (s) on one GPU."""

    gpu: str
    model: str          # hwsim model name
    tp: int
    tokens: int
    seconds: dict       # hwsim op name -> measured median (s)


def _git_show(repo: Path, path: str) -> str | None:
    if (repo / path).is_file():
        return (repo / path).read_text()
    done = subprocess.run(["git", f"--git-dir={repo}", "show", f"HEAD:{path}"], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def _commit(repo: Path) -> str:
    done = subprocess.run(["git", f"--git-dir={repo}", "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def extract(repo: Path, out=sys.stdout) -> None:
    """Write the compact table from a Vidur git directory (or checkout) to `out`."""
    out.write(f"# Source: github.com/microsoft/vidur commit {_commit(repo)}, "
              "data/profiling/compute/<gpu>/<model>/mlp.csv (MIT licence).\n"
              "# Median CUDA kernel time per operator (us), fp16, per tensor-parallel rank; median over the\n"
              "# profile's repeated rows. Made by: python -m hwsim.validate.vidur <vidur git dir>\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["gpu", "model", "tp", "tokens", *OPERATORS])
    for gpu in GPUS:
        for vidur_model, model in MODELS.items():
            text = _git_show(repo, f"data/profiling/compute/{gpu}/{vidur_model}/mlp.csv")
            if text is None:
                continue
            groups: dict[tuple[int, int], list[dict]] = {}
            for row in csv.DictReader(io.StringIO(text)):
                key = (int(row["num_tensor_parallel_workers"]), int(row["num_tokens"]))
                groups.setdefault(key, []).append(row)
            for (tp, tokens), rows in sorted(groups.items()):
                if tokens not in TOKENS:
                    continue
                medians = [statistics.median(float(r[f"time_stats.{op}.median"]) for r in rows) * 1e3
                           for op in OPERATORS]
                writer.writerow([gpu, model, tp, tokens, *(f"{t:.4g}" for t in medians)])


@lru_cache(maxsize=None)
def load(path: Path = TABLE) -> tuple[Measured, ...]:
    """Every configuration of the shipped table (times in seconds)."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return tuple(Measured(r["gpu"], r["model"], int(r["tp"]), int(r["tokens"]),
                          {OPERATORS[op]: float(r[op]) * 1e-6 for op in OPERATORS})
                 for r in csv.DictReader(lines))


if __name__ == "__main__":
    extract(Path(sys.argv[1]))
