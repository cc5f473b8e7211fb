"""The store's transfer queue: one transfer at a time; demand fetches go ahead of prefetches that
have not started (a prefetch in progress finishes first), prefetches keep their issue order and
can be cancelled before they start.

Only waiting prefetches ever move, so an arrival time read for a demand transfer stays true;
``promote`` turns a waiting prefetch into a demand the moment an operator needs it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable


@dataclass
class _Transfer:
    key: Hashable
    nbytes: float
    duration_ps: int
    demand: bool
    start_ps: int = 0
    end_ps: int = 0


class TransferQueue:
    def __init__(self, duration_ps: Callable[[float], int]):
        self._duration_ps = duration_ps
        self._waiting: list[_Transfer] = []          # not started, in service order
        self._last_end_ps = 0                        # end of the transfer in service or last done
        self.arrival: dict[Hashable, int] = {}       # key -> when its bytes are in fast memory (ps)

    @property
    def free_ps(self) -> int:
        """When everything queued has arrived."""
        return self._waiting[-1].end_ps if self._waiting else self._last_end_ps

    def request(self, key, nbytes: float, now_ps: int, demand: bool) -> int:
        """Queue ``nbytes`` for ``key`` at ``now_ps``; returns the transfer's duration (ps)."""
        self._started_by(now_ps)
        transfer = _Transfer(key, nbytes, self._duration_ps(nbytes), demand)
        self._waiting.insert(self._after_demands() if demand else len(self._waiting), transfer)
        self._retime(now_ps)
        return transfer.duration_ps

    def promote(self, key, now_ps: int) -> None:
        """``key``'s waiting prefetch (if any) becomes a demand transfer."""
        self._started_by(now_ps)
        for index, transfer in enumerate(self._waiting):
            if transfer.key == key and not transfer.demand:
                del self._waiting[index]
                transfer.demand = True
                self._waiting.insert(self._after_demands(), transfer)
                self._retime(now_ps)
                return

    def cancel(self, stale: Callable[[Hashable], bool], now_ps: int) -> list[tuple[Hashable, float, int]]:
        """Drop the waiting prefetches whose key is ``stale``; their (key, nbytes, duration_ps)."""
        self._started_by(now_ps)
        dropped = [t for t in self._waiting if not t.demand and stale(t.key)]
        self._waiting = [t for t in self._waiting if t not in dropped]
        for transfer in dropped:
            del self.arrival[transfer.key]
        self._retime(now_ps)
        return [(t.key, t.nbytes, t.duration_ps) for t in dropped]

    def _after_demands(self) -> int:
        return sum(t.demand for t in self._waiting)     # demands are always at the front

    def _started_by(self, now_ps: int) -> None:
        while self._waiting and self._waiting[0].start_ps <= now_ps:
            self._last_end_ps = self._waiting.pop(0).end_ps

    def _retime(self, now_ps: int) -> None:
        t = max(now_ps, self._last_end_ps)
        for transfer in self._waiting:
            transfer.start_ps, transfer.end_ps = t, t + transfer.duration_ps
            self.arrival[transfer.key] = t = transfer.end_ps
