"""On a space small enough to enumerate, the search finds the grid's Pareto front with fewer
evaluations than the grid (benchmarks/search.py measures the same on the shipped PIM-GPT search)."""
from search_toy import EVALUATOR, TOY_SEARCH, write_toy_search

from hwsim.search.run import grid_front, non_dominated, run_search
from hwsim.search.spec import load_search


def test_non_dominated_closed_form():
    values = {"a": [3, 1], "b": [2, 1], "c": [1, 0], "d": [3, 1], "e": [0, 5]}
    assert non_dominated(values, ["max", "min"]) == {"a", "c", "d"}      # b: beaten by a; e: by c
    assert non_dominated(values, ["min", "max"]) == {"e"}                # e beats every other


def test_search_finds_the_grid_front_in_fewer_evaluations(tmp_path):
    search = load_search(write_toy_search(tmp_path, TOY_SEARCH.replace("budget: 12", "budget: 20")))
    designs, front = grid_front(search, tmp_path / "grid" / "points.jsonl", evaluator=EVALUATOR)
    assert designs == 17 and len(front) == 6                  # batch 1 at each of the 6 bandwidths
    result = run_search(search, tmp_path / "search", evaluator=EVALUATOR, progress=False)
    found = {t.point.key for t in result.front}
    assert found == front                                     # the whole front (TPE, seed 3) ...
    assert result.computed == 14 < designs                    # ... from 14 distinct designs of 17
