"""Request streams: arrival processes, prompt/output length distributions, and trace files.

Arrivals (serving.md section 2.1): ``poisson`` (exponential gaps, mean 1/rate; not Vidur's
truncated form), ``gamma`` with a coefficient of variation cv of the gaps (shape 1/cv^2,
scale 1/(rate shape), as vLLM's burstiness k = 1/cv^2 and Vidur's gamma), ``constant`` (gaps
exactly 1/rate). The first request arrives one gap after t = 0.

Lengths: ``fixed:N``, ``uniform:LO:HI`` (integers, both ends included), ``lognormal:MEDIAN:SIGMA``
(exp of a normal with mean ln MEDIAN, rounded, at least 1), or (prompt, output) pairs drawn with
replacement from a trace file (``lengths_from``).

Trace files are CSV with a header, one request per row, in arrival order; the column layout is
recognised from the header (serving.md section 2.2):

    hwsim       arrival_s, prompt_tokens, output_tokens          (seconds)
    Azure LLM   TIMESTAMP, ContextTokens, GeneratedTokens        (datetimes, 2023 and 2024 traces)
    BurstGPT    Timestamp, Request tokens, Response tokens       (seconds; rows with 0 response
                                                                  tokens are failed requests, skipped)

Arrival times are taken relative to the first row. Everything is seeded and deterministic.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

ARRIVALS = ("poisson", "gamma", "constant")
# Default lengths: lognormal fits of the Azure 2023 conversation trace (serving.md section 2.2:
# prompt median 1020, mean 1155; output median 129, mean 211), sigma = sqrt(2 ln(mean / median)).
PROMPT = "lognormal:1020:0.498"
OUTPUT = "lognormal:129:0.992"
LAYOUTS = {   # name -> (time column, prompt column, output column, time parser)
    "hwsim": ("arrival_s", "prompt_tokens", "output_tokens", float),
    "azure": ("TIMESTAMP", "ContextTokens", "GeneratedTokens", lambda text: datetime.fromisoformat(text).timestamp()),
    "burstgpt": ("Timestamp", "Request tokens", "Response tokens", float),
}


@dataclass(frozen=True)
class Request:
    """One request: arrives at `arrival_s`, brings `prompt` tokens, wants `output` tokens."""

    id: int
    arrival_s: float
    prompt: int
    output: int


@dataclass(frozen=True)
class Lengths:
    """A token-length distribution: ``Lengths.parse("uniform:32:512")``."""

    kind: str
    a: float
    b: float = 0.0

    @classmethod
    def parse(cls, text: str | int) -> "Lengths":
        """A bare number N (an int, or text such as '64') is fixed:N."""
        if isinstance(text, int) or str(text).isdigit():
            text = f"fixed:{text}"
        kind, *args = str(text).split(":")
        arity = {"fixed": 1, "uniform": 2, "lognormal": 2}
        if kind not in arity or len(args) != arity[kind]:
            raise ValueError(f"lengths {text!r}: expected N, fixed:N, uniform:LO:HI or lognormal:MEDIAN:SIGMA")
        try:
            values = [float(arg) for arg in args]
        except ValueError:
            raise ValueError(f"lengths {text!r}: {', '.join(args)} must be numbers") from None
        if not all(map(math.isfinite, values)):
            raise ValueError(f"lengths {text!r}: need finite numbers")
        if values[0] < 1 or (kind == "uniform" and values[1] < values[0]) or (kind == "lognormal" and values[1] < 0):
            raise ValueError(f"lengths {text!r}: need lengths >= 1, LO <= HI and SIGMA >= 0")
        return cls(kind, *values)

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.kind == "fixed":
            return np.full(n, int(self.a), dtype=np.int64)
        if self.kind == "uniform":
            return rng.integers(int(self.a), int(self.b), endpoint=True, size=n)
        return np.maximum(1, np.rint(np.exp(rng.normal(math.log(self.a), self.b, n)))).astype(np.int64)


def arrival_times(n: int, rate: float, arrival: str = "poisson", cv: float = 1.0, seed: int = 0) -> np.ndarray:
    """Arrival times (s) of `n` requests at `rate` per second."""
    if not rate > 0 or not math.isfinite(rate):
        raise ValueError(f"rate must be a finite number > 0 requests/s, got {rate}")
    if arrival not in ARRIVALS:
        raise ValueError(f"arrival {arrival!r}: one of {', '.join(ARRIVALS)}")
    if not cv > 0:
        raise ValueError(f"cv must be > 0, got {cv}")
    rng = np.random.default_rng([seed, 0])
    if arrival == "constant":
        gaps = np.full(n, 1 / rate)
    elif arrival == "poisson":
        gaps = rng.exponential(1 / rate, n)
    else:
        shape = 1 / cv ** 2
        gaps = rng.gamma(shape, 1 / (rate * shape), n)
    return np.cumsum(gaps)


def generate(n: int, rate: float, prompt=PROMPT, output=OUTPUT, arrival: str = "poisson",
             cv: float = 1.0, seed: int = 0, lengths_from=None) -> list[Request]:
    """`n` requests; lengths from the `prompt` / `output` distributions, or (prompt, output) pairs
    drawn from the trace file `lengths_from`."""
    if n < 1:
        raise ValueError(f"need at least 1 request, got {n}")
    times = arrival_times(n, rate, arrival, cv, seed)
    if lengths_from is not None:
        pool = load_trace(lengths_from)
        rows = np.random.default_rng([seed, 1]).integers(0, len(pool), n)
        prompts = [pool[i].prompt for i in rows]
        outputs = [pool[i].output for i in rows]
    else:
        prompts = Lengths.parse(prompt).draw(n, np.random.default_rng([seed, 1]))
        outputs = Lengths.parse(output).draw(n, np.random.default_rng([seed, 2]))
    return [Request(i, float(times[i]), int(prompts[i]), int(outputs[i])) for i in range(n)]


def load_trace(path, limit: int | None = None) -> list[Request]:
    """Requests of a CSV trace (layouts in the module docstring); errors name the file and line."""
    path = Path(path)
    try:
        handle = path.open(newline="")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read request trace: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or ())
        layout = next((LAYOUTS[name] for name in LAYOUTS if set(LAYOUTS[name][:3]) <= header), None)
        if layout is None:
            expected = "; ".join(", ".join(columns[:3]) for columns in LAYOUTS.values())
            raise ValueError(f"{path}:1: unknown columns {sorted(header)}; expected one of: {expected}")
        time_column, prompt_column, output_column, parse_time = layout
        requests: list[Request] = []
        start = previous = None
        for row in reader:
            line = reader.line_num
            try:
                t = parse_time(row[time_column])
                prompt, output = int(row[prompt_column]), int(row[output_column])
            except (TypeError, ValueError):
                raise ValueError(f"{path}:{line}: cannot read {time_column}, {prompt_column}, {output_column} "
                                 f"from {[row.get(c) for c in layout[:3]]}") from None
            if not math.isfinite(t) or (parse_time is float and t < 0):
                raise ValueError(f"{path}:{line}: arrival time {row[time_column]} must be a finite number >= 0")
            if previous is not None and t < previous:
                raise ValueError(f"{path}:{line}: arrival time {row[time_column]} is earlier than the row before; "
                                 "rows must be in arrival order")
            if prompt < 1 or output < 0:
                raise ValueError(f"{path}:{line}: need prompt tokens >= 1 and output tokens >= 0, "
                                 f"got {prompt}, {output}")
            previous = t
            start = t if start is None else start
            if output == 0:            # a failed request (BurstGPT): nothing was generated
                continue
            requests.append(Request(len(requests), t - start, prompt, output))
            if limit is not None and len(requests) >= limit:
                break
    if not requests:
        raise ValueError(f"{path}: no requests")
    return requests


def save_trace(requests: list[Request], path) -> None:
    """Write requests in the hwsim trace layout."""
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LAYOUTS["hwsim"][:3])
        writer.writerows((f"{r.arrival_s:.6f}", r.prompt, r.output) for r in requests)
