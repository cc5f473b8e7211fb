"""Search files: the sweep's axes syntax plus objectives and a budget, strictly checked."""
from pathlib import Path

import pytest
from search_toy import TOY_SEARCH, write_toy_search

from hwsim.config.errors import ConfigError
from hwsim.search.spec import load_search
from hwsim.sweep.points import Resolver, check_inputs

SWEEPS = Path(__file__).resolve().parents[3] / "sweeps"


def error_of(tmp_path, text) -> str:
    with pytest.raises(ConfigError) as info:
        load_search(write_toy_search(tmp_path, text))
    return str(info.value)


def test_toy_search_loads(tmp_path):
    spec = load_search(write_toy_search(tmp_path)).spec
    assert (spec.budget, spec.sampler, spec.seed, spec.batch) == (12, "tpe", 3, 3)
    assert spec.objectives == {"tokens_per_s": "max", "energy_per_token_j": "min"}
    assert not spec.needs_area


def test_unknown_key_has_did_you_mean(tmp_path):
    message = error_of(tmp_path, TOY_SEARCH.replace("budget: 12", "budgett: 12"))
    assert "toy.yaml:10: budgett: unknown key 'budgett' (did you mean 'budget'?)" in message


def test_unknown_objective_has_did_you_mean(tmp_path):
    message = error_of(tmp_path, TOY_SEARCH.replace("tokens_per_s: max", "tokens_per_s_per_mm: max"))
    assert "objectives.tokens_per_s_per_mm" in message and "did you mean 'tokens_per_s_per_mm2'" in message


def test_constraint_names_must_be_axes(tmp_path):
    message = error_of(tmp_path, TOY_SEARCH.replace("batch * bw < 1800", "batch * bandwidth < 1800"))
    assert "toy.yaml:8: constraints[0]: unknown parameter 'bandwidth'" in message


def test_sampler_and_budget_are_checked(tmp_path):
    assert "sampler" in error_of(tmp_path, TOY_SEARCH.replace("seed: 3", "seed: 3\nsampler: grid"))
    assert "budget" in error_of(tmp_path, TOY_SEARCH.replace("budget: 12", "budget: 0"))


def test_random_block_is_refused(tmp_path):
    message = error_of(tmp_path, TOY_SEARCH + "random: {samples: 4}\n")
    assert "a search draws its own points" in message


def test_at_most_three_objectives(tmp_path):
    text = TOY_SEARCH.replace("objectives: {tokens_per_s: max, energy_per_token_j: min}",
                              "objectives: {tokens_per_s: max, energy_per_token_j: min, latency_s: min, power_w: min}")
    assert "objectives" in error_of(tmp_path, text)


@pytest.mark.parametrize("path", sorted(SWEEPS.glob("*_search.yaml")), ids=lambda p: p.stem)
def test_shipped_searches_are_valid(path):
    search = load_search(path)
    check_inputs(search, Resolver(search))
