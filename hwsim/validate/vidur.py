"""Measured GPU kernel and collective times from Vidur's profiles, kept as two compact tables.

data/vidur_ops.csv (operators):
Vidur (github.com/microsoft/vidur) ships `data/profiling/compute/<gpu>/<model>/mlp.csv`: one
transformer block's operators (Sarathi-Serve's kernels, fp16) timed on real A100, A40 and H100 GPUs
by token count and tensor-parallel degree, each a min/median/max over 20 runs of the summed CUDA
kernel durations (torch profiler, `record_function` method: GPU time only, no launch gaps). The
table keeps, per (gpu, model, tp, tokens), the median time of each operator in microseconds (the
median over the profile's repeated rows), for the models hwsim ships and a token grid of powers of
two and three times powers of two.

data/vidur_collectives.csv (collectives): `data/profiling/network/<system>_dgx/{all_reduce,send_recv}.csv`,
NCCL all-reduce over 2, 4 and 8 GPUs of one DGX node and send/recv between two GPUs of it, fp16
buffers of 2 KB to 64 MB (CUDA graphs, kernel time by the torch profiler); per power of two of bytes
the nearest profiled size and its median time in microseconds.

Only these figures are used; none of Vidur's code.
Regenerate both: `python -m hwsim.validate.vidur <vidur git dir or checkout>`.
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
COLLECTIVES = TABLE.with_name("vidur_collectives.csv")

# Vidur operator -> the op of hwsim's trace (hwsim/workload/trace.py) that does the same work
OPERATORS = {"emb": "embedding", "input_layernorm": "attn_norm", "attn_pre_proj": "qkv", "attn_rope": "rope",
             "attn_post_proj": "o_proj", "post_attention_layernorm": "ffn_norm", "mlp_up_proj": "ffn.up",
             "mlp_act": "ffn.act", "mlp_down_proj": "ffn.down", "add": "ffn_residual"}
MODELS = {"meta-llama/Llama-2-7b-hf": "llama2-7b", "meta-llama/Llama-2-70b-hf": "llama2-70b",
          "meta-llama/Meta-Llama-3-8B": "llama3-8b", "meta-llama/Meta-Llama-3-70B": "llama3-70b"}
GPUS = ("a100", "a40", "h100")
TOKENS = sorted({2 ** i for i in range(16)} | {3 * 2 ** i for i in range(3, 14)})
SYSTEMS = ("a100_dgx", "h100_dgx")
SIZES = [2 ** p for p in range(11, 27)]          # 2 KB .. 64 MB, the profiled range


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


def _header(repo: Path, path: str, lines: str) -> str:
    return f"# Source: github.com/microsoft/vidur commit {_commit(repo)}, {path} (MIT licence).\n{lines}"


@dataclass(frozen=True)
class Collective:
    """One profiled collective: `ranks` GPUs of one node, a buffer of `nbytes`, median time (s)."""

    system: str
    collective: str     # all_reduce | send_recv
    ranks: int
    nbytes: int
    seconds: float


def extract_collectives(repo: Path, out) -> None:
    """Write the collectives table from a Vidur git directory (or checkout) to `out`."""
    out.write(_header(repo, "data/profiling/network/<system>/{all_reduce,send_recv}.csv",
                      "# Median NCCL kernel time (us) of an fp16 buffer of `bytes` over `ranks` GPUs of one node;\n"
                      "# the profiled sizes nearest the powers of two. Made by: python -m hwsim.validate.vidur <vidur git dir>\n"))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["system", "collective", "ranks", "bytes", "us"])
    for system in SYSTEMS:
        for collective in ("all_reduce", "send_recv"):
            text = _git_show(repo, f"data/profiling/network/{system}/{collective}.csv")
            times: dict[int, dict[int, float]] = {}
            for row in csv.DictReader(io.StringIO(text)):
                if row["num_workers"] == row["devices_per_node"]:        # one node
                    times.setdefault(int(row["num_workers"]), {})[int(row["size"])] = \
                        float(row[f"time_stats.{collective}.median"]) * 1e3
            for ranks, by_size in sorted(times.items()):
                for size in sorted({min(by_size, key=lambda s: abs(s - target)) for target in SIZES}):
                    writer.writerow([system, collective, ranks, size, f"{by_size[size]:.4g}"])


def extract(repo: Path, out) -> None:
    """Write the operator table from a Vidur git directory (or checkout) to `out`."""
    out.write(_header(repo, "data/profiling/compute/<gpu>/<model>/mlp.csv",
                      "# Median CUDA kernel time per operator (us), fp16, per tensor-parallel rank; median over the\n"
                      "# profile's repeated rows. Made by: python -m hwsim.validate.vidur <vidur git dir>\n"))
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


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(line for line in path.read_text().splitlines() if not line.startswith("#")))


@lru_cache(maxsize=None)
def load(path: Path = TABLE) -> tuple[Measured, ...]:
    """Every configuration of the shipped operator table (times in seconds)."""
    return tuple(Measured(r["gpu"], r["model"], int(r["tp"]), int(r["tokens"]),
                          {OPERATORS[op]: float(r[op]) * 1e-6 for op in OPERATORS}) for r in _rows(path))


@lru_cache(maxsize=None)
def load_collectives(path: Path = COLLECTIVES) -> tuple[Collective, ...]:
    """Every entry of the shipped collectives table (times in seconds)."""
    return tuple(Collective(r["system"], r["collective"], int(r["ranks"]), int(r["bytes"]), float(r["us"]) * 1e-6)
                 for r in _rows(path))


if __name__ == "__main__":
    repo = Path(sys.argv[1])
    with TABLE.open("w") as out:
        extract(repo, out)
    with COLLECTIVES.open("w") as out:
        extract_collectives(repo, out)
