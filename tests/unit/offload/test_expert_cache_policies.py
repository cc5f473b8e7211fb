"""Expert cache policies on hand-made access sequences: exact hits and victims."""
import pytest

from hwsim.components.expert_cache.cache import ExpertCache


def _play(cache, sequence, size=1.0):
    """Touch each key, admitting the misses; returns the hit count."""
    hits = 0
    for key in sequence:
        hit = cache.touch(key)
        hits += hit
        if not hit:
            cache.admit(key, size)
    return hits


def test_lru_on_a_cyclic_sequence_one_larger_than_the_cache_never_hits():
    assert _play(ExpertCache(3, "lru"), "abcdabcdabcd") == 0


def test_lru_keeps_the_recently_used():
    cache = ExpertCache(3, "lru")
    # a b c (cold) a (hit) d evicts b, b evicts c, a hits, c evicts d
    assert _play(cache, "abcadbac") == 2
    assert set(cache.resident) == {"a", "b", "c"}


def test_score_policy_keeps_the_frequent_expert_through_a_scan():
    sequence = "aaab" + "cdefg" + "a"          # a is hot; a scan of cold experts follows
    assert _play(ExpertCache(2, "lru"), sequence) == 2          # the scan flushes a under LRU
    assert _play(ExpertCache(2, "score"), sequence) == 3        # LFU keeps a: the last access hits


def test_score_ties_go_to_the_least_recently_used_and_history_survives_eviction():
    cache = ExpertCache(2, "score")
    assert _play(cache, "abc") == 0                 # a and b tie at 1: a (older) goes
    assert set(cache.resident) == {"b", "c"}
    _play(cache, "a")                               # a (score 2 now) comes back, evicting b (1, older than c)
    assert set(cache.resident) == {"a", "c"}


def test_decay_turns_frequency_into_recency():
    cache = ExpertCache(1, "score", decay=0.5)
    for key in "aab":
        cache.touch(key)
    assert cache.score("a") == pytest.approx(1.5 * 0.5)     # (1 * 0.5 + 1) decayed one access
    assert cache.score("b") == pytest.approx(1.0)


def test_admit_respects_bytes_and_protected_entries():
    cache = ExpertCache(10, "lru")
    for key in "ab":
        cache.touch(key)
        assert cache.admit(key, 5)
    cache.touch("c")
    assert not cache.admit("c", 6, protected=lambda key: key == "b")     # a alone frees 5 B
    assert cache.admit("c", 5, protected=lambda key: key == "a")    # b is the only victim allowed
    assert set(cache.resident) == {"a", "c"} and cache.used == 10
    assert not cache.admit("d", 11)                                 # larger than the cache
    assert not cache.admit("d", 5, protected=lambda key: True)      # nothing may go
    assert set(cache.resident) == {"a", "c"}
