"""Which expert weights stay resident in fast memory under a byte budget, and which to evict.

Policies (the entry with the lowest priority among the evictable ones goes first):

- ``lru``: priority = time of the last access (or admission);
- ``score``: priority = decayed access frequency, ``sum over past accesses of decay ** age``, age
  counted in accesses to the cache (any key); ``decay`` 1 is plain LFU, smaller values weigh
  recent accesses more (a frequency/recency score). Ties go to the least recently used. Scores
  are kept for evicted keys too, so an expert that was popular comes back with its history.

Time is the access counter (one tick per ``touch``), so policies are exact on hand-made sequences.
"""
from __future__ import annotations

from typing import Callable, Hashable, Literal, Optional

Policy = Literal["lru", "score"]


class ExpertCache:
    """Resident entries (key -> bytes) within ``capacity`` bytes."""

    def __init__(self, capacity: float, policy: Policy = "lru", decay: float = 1.0):
        if policy not in ("lru", "score"):
            raise ValueError(f"cache policy must be 'lru' or 'score', got {policy!r}")
        self.capacity, self.policy, self.decay = float(capacity), policy, decay
        self.resident: dict[Hashable, float] = {}
        self.used = 0.0
        self.clock = 0
        self._last: dict[Hashable, int] = {}          # last access / admission tick
        self._score: dict[Hashable, float] = {}       # decayed frequency at its last access
        self._scored_at: dict[Hashable, int] = {}     # tick of that access

    def __contains__(self, key) -> bool:
        return key in self.resident

    def touch(self, key) -> bool:
        """Record one access to ``key``; True if it was resident (a hit)."""
        self.clock += 1
        self._score[key] = self.score(key) + 1.0
        self._last[key] = self._scored_at[key] = self.clock
        return key in self.resident

    def score(self, key) -> float:
        """``key``'s decayed access frequency now."""
        return self._score.get(key, 0.0) * self.decay ** (self.clock - self._scored_at.get(key, self.clock))

    def priority(self, key) -> tuple:
        recency = self._last.get(key, 0)
        return (recency,) if self.policy == "lru" else (self.score(key), recency)

    def discard(self, key) -> None:
        """Drop ``key`` if resident (its weights never arrived); its access history stays."""
        if key in self.resident:
            self.used -= self.resident.pop(key)

    def admit(self, key, size: float, protected: Optional[Callable[[Hashable], bool]] = None) -> bool:
        """Make ``key`` (``size`` bytes) resident, evicting the lowest-priority entries that are not
        ``protected``; False (nothing evicted) when it cannot fit."""
        if key in self.resident:
            return True
        evictable = [k for k in self.resident if not (protected and protected(k))]
        if self.capacity - self.used + sum(self.resident[k] for k in evictable) < size:
            return False
        while self.capacity - self.used < size:
            victim = min(evictable, key=self.priority)
            evictable.remove(victim)
            self.used -= self.resident.pop(victim)
        self.resident[key] = size
        self.used += size
        self._last[key] = max(self._last.get(key, 0), self.clock)
        return True
