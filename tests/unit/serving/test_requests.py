"""Request streams: seeded arrival processes with the right rate and burstiness, length
distributions, the Azure / BurstGPT / hwsim trace layouts, and bad input named by file and line."""
import numpy as np
import pytest

from hwsim.serving.requests import Lengths, arrival_times, generate, load_trace, save_trace


@pytest.mark.parametrize("arrival, cv", [("poisson", 1.0), ("gamma", 2.0), ("gamma", 0.5)])
def test_arrivals_have_the_asked_rate_and_coefficient_of_variation(arrival, cv):
    gaps = np.diff(arrival_times(200_000, 4.0, arrival, cv, seed=1), prepend=0.0)
    assert gaps.mean() == pytest.approx(0.25, rel=0.02)
    assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.03)


def test_constant_arrivals_and_determinism():
    assert arrival_times(4, 2.0, "constant").tolist() == [0.5, 1.0, 1.5, 2.0]
    assert generate(50, 3.0, "uniform:1:9", "lognormal:100:0.5", seed=7) == \
        generate(50, 3.0, "uniform:1:9", "lognormal:100:0.5", seed=7)
    assert generate(50, 3.0, seed=7) != generate(50, 3.0, seed=8)


def test_length_distributions():
    rng = np.random.default_rng(0)
    uniform = Lengths.parse("uniform:3:5").draw(10_000, rng)
    assert set(uniform.tolist()) == {3, 4, 5}
    lognormal = Lengths.parse("lognormal:200:0.8").draw(100_000, rng)
    assert np.median(lognormal) == pytest.approx(200, rel=0.02) and lognormal.min() >= 1
    assert Lengths.parse(64).draw(3, rng).tolist() == [64, 64, 64]
    assert Lengths.parse("64") == Lengths.parse("fixed:64") == Lengths.parse(64)      # a bare number is fixed
    with pytest.raises(ValueError, match="expected N, fixed:N"):
        Lengths.parse("zipf:1.2")


@pytest.mark.parametrize("text, why", [("fixed:nan", "finite"), ("uniform:1:inf", "finite"), ("fixed:abc", "numbers"),
                                       ("fixed:0", ">= 1"), ("-5", "expected N")])
def test_bad_lengths_are_one_line_errors(text, why):
    with pytest.raises(ValueError, match=why):
        Lengths.parse(text)


@pytest.mark.parametrize("rate", [0, -1.0, float("nan")])
def test_a_rate_that_is_not_positive_is_an_error(rate):
    with pytest.raises(ValueError, match="rate must be"):
        generate(10, rate)


AZURE = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n" \
        "2023-11-16 18:15:50.9951690,396,109\n"
BURSTGPT = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n" \
           "5,ChatGPT,472,18,490,Conversation log\n45,ChatGPT,1087,0,1087,Conversation log\n" \
           "118,GPT-4,417,276,693,Conversation log\n"


def test_azure_and_burstgpt_layouts_are_read(tmp_path):
    (tmp_path / "azure.csv").write_text(AZURE)
    (tmp_path / "burst.csv").write_text(BURSTGPT)
    azure = load_trace(tmp_path / "azure.csv")
    assert [(r.prompt, r.output) for r in azure] == [(374, 44), (396, 109)]
    assert azure[0].arrival_s == 0 and azure[1].arrival_s == pytest.approx(4.314579)
    burst = load_trace(tmp_path / "burst.csv")           # the failed row (0 response tokens) is skipped
    assert [(r.arrival_s, r.prompt, r.output) for r in burst] == [(0, 472, 18), (113, 417, 276)]


def test_a_saved_workload_replays_and_feeds_lengths(tmp_path):
    requests = generate(20, 2.0, "uniform:10:50", "uniform:1:20", seed=3)
    save_trace(requests, tmp_path / "w.csv")
    replay = load_trace(tmp_path / "w.csv")
    assert [(r.prompt, r.output) for r in replay] == [(r.prompt, r.output) for r in requests]
    assert [r.arrival_s for r in replay] == pytest.approx([r.arrival_s - requests[0].arrival_s for r in requests], abs=1e-5)
    drawn = generate(30, 1.0, lengths_from=tmp_path / "w.csv", seed=1)
    assert {(r.prompt, r.output) for r in drawn} <= {(r.prompt, r.output) for r in requests}


@pytest.mark.parametrize("rows, message", [
    ("1.0,5,5\n0.5,5,5\n", "w.csv:3: arrival time 0.5 is earlier"),
    ("-1,5,5\n", "w.csv:2: arrival time -1 must be"),
    ("nan,5,5\n", "w.csv:2: arrival time nan must be"),
    ("1,x,5\n", "w.csv:2: cannot read"),
])
def test_bad_traces_name_the_file_and_line(tmp_path, rows, message):
    (tmp_path / "w.csv").write_text("arrival_s,prompt_tokens,output_tokens\n" + rows)
    with pytest.raises(ValueError, match=message):
        load_trace(tmp_path / "w.csv")


def test_unknown_columns_are_named(tmp_path):
    (tmp_path / "w.csv").write_text("time,in,out\n1,2,3\n")
    with pytest.raises(ValueError, match="w.csv:1: unknown columns"):
        load_trace(tmp_path / "w.csv")
