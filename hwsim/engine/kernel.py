"""The event kernel: a calendar of plain callbacks in integer picoseconds.

Events run in ``(time, priority, seq)`` order; ``seq`` is the insertion order, so ties run
first-in first-out and every run is deterministic.

The queue is bucketed, like SST's binned time vortex. A heap holds each distinct ``(time,
priority)`` once, packed into one int key ``time << PRIORITY_BITS | priority`` (ints compare
faster than tuples), and a dict maps the key to its events in insertion order: a lone
``(callback, args)`` tuple, or a list once a second event shares the key. Appending keeps seq order
for free, so an event that ties costs a dict lookup and an append instead of a heap push. While a
lone event runs its key stays on top of the heap, and the first new key it schedules replaces it
in one sift (``heapreplace``) instead of a pop and a push, which keeps events that do not tie
near the cost of a plain heap of tuples (benchmarks/engine.py measures both regimes).
"""
from heapq import heappop, heappush, heapreplace
from numbers import Integral
from operator import length_hint

CLOCK = 40
"""Clock edges run before events delivered in the same picosecond (SST's order)."""
EVENT = 50
"""Default priority: messages, completions."""
NORMAL = EVENT
STAT = 85
"""Statistics sampling runs after the clocks and events of its picosecond."""

PRIORITY_BITS = 8
MAX_PRIORITY = (1 << PRIORITY_BITS) - 1
_NEVER = 1 << 256  # a key after every event (an int: compares faster with int keys than inf)


def nonnegative_int(value, what):
    """``value`` as an int if it is a non-negative integer (numpy ints too), else ValueError."""
    if isinstance(value, Integral) and not isinstance(value, bool) and value >= 0:
        return int(value)
    raise ValueError(f"{what} must be a non-negative integer, got {value!r}")


def _checked(delay_ps, priority):
    """Slow path of ``schedule``: the delay is not a plain non-negative int, or the priority is
    not the default object (``is EVENT`` only filters the fast path)."""
    priority = nonnegative_int(priority, "priority")
    if priority > MAX_PRIORITY:
        raise ValueError(f"priority must be <= {MAX_PRIORITY}, got {priority}")
    return nonnegative_int(delay_ps, "delay_ps"), priority


class Simulator:
    """Discrete-event simulator; ``now`` is the current time in integer picoseconds.

    Events of one ``(time, priority)`` run back to back, including those scheduled meanwhile for
    the same key. An event scheduled for the current time with a more urgent priority than the
    running one cannot run in the past: it runs right after the running key's events.
    ``events_processed`` counts events run (events sharing a key are counted when it is done).
    Callbacks may schedule and peek, but not call ``run`` or ``step``.
    """

    __slots__ = ("now", "events_processed", "_heap", "_buckets", "_top_done")

    def __init__(self):
        self.now = 0
        self.events_processed = 0
        self._heap = []     # distinct pending keys, a min-heap
        self._buckets = {}  # key -> (callback, args) | [(callback, args), ...]
        self._top_done = False  # heap[0] is the running lone event's key, popped lazily

    def schedule(self, delay_ps, callback, *args, priority=EVENT):
        """Call ``callback(*args)`` ``delay_ps`` picoseconds from now, at ``priority`` (an int in
        [0, 255], lower runs first). A negative or non-integer delay is a ValueError."""
        if type(delay_ps) is not int or delay_ps < 0 or priority is not EVENT:
            delay_ps, priority = _checked(delay_ps, priority)
        key = (self.now + delay_ps) << PRIORITY_BITS | priority
        bucket = self._buckets.get(key)
        if bucket is None:
            self._buckets[key] = (callback, args)
            if self._top_done:  # pop the running key and push this one in one sift (faster)
                self._top_done = False
                heapreplace(self._heap, key)
            else:
                heappush(self._heap, key)
        elif type(bucket) is list:
            bucket.append((callback, args))
        else:
            self._buckets[key] = [bucket, (callback, args)]

    def schedule_at(self, time_ps, callback, *args, priority=EVENT):
        """Call ``callback(*args)`` at absolute time ``time_ps``; before ``now`` is a ValueError."""
        if type(time_ps) is not int or time_ps < 0:     # the checks' slow path (numpy ints, errors)
            time_ps = nonnegative_int(time_ps, "time_ps")
        if time_ps < self.now:
            raise ValueError(f"time_ps={time_ps} is in the past (now={self.now} ps)")
        self.schedule(time_ps - self.now, callback, *args, priority=priority)

    def peek(self):
        """Time (ps) of the next pending event, or None if none is. Called from a callback, it
        reports the next ``(time, priority)`` key after the running one."""
        if self._top_done:  # called from a running lone event: its key is still heap[0]
            self._top_done = False
            heappop(self._heap)
        return self._heap[0] >> PRIORITY_BITS if self._heap else None

    def step(self):
        """Run exactly one event, the first in ``(time, priority, seq)`` order (for debugging:
        it copies the rest of a shared key's list)."""
        if not self._heap:
            raise RuntimeError("step() with no pending events")
        key = heappop(self._heap)
        event = self._buckets.pop(key)
        if type(event) is list:
            event, rest = event[0], event[1:]
            if rest:
                self._buckets[key] = rest
                heappush(self._heap, key)
        self.now = key >> PRIORITY_BITS
        self.events_processed += 1
        callback, args = event
        callback(*args)

    def run(self, until=None):
        """Run events until none is pending or time ``until`` (ps) is reached.

        As in SimPy, events at exactly ``until`` do not run: they stay pending and ``now`` ends at
        ``until``, so ``run(until=a); run(until=b)`` runs every event in ``[a, b)`` exactly once.
        If a callback raises, the exception propagates and the events after it stay pending.
        """
        if until is None:
            stop = _NEVER
        else:
            until = nonnegative_int(until, "until")
            if until < self.now:
                raise ValueError(f"until={until} is in the past (now={self.now} ps)")
            stop = until << PRIORITY_BITS
        heap, buckets = self._heap, self._buckets
        while heap and heap[0] < stop:
            key = heap[0]
            self.now = key >> PRIORITY_BITS
            bucket = buckets.pop(key)
            if type(bucket) is tuple:  # a lone event
                self.events_processed += 1
                callback, args = bucket
                self._top_done = True
                try:
                    callback(*args)
                finally:
                    if self._top_done:
                        self._top_done = False
                        heappop(heap)
                continue
            heappop(heap)
            buckets[key] = bucket  # so that events scheduled for this key join it while it runs
            calls = iter(bucket)  # a list iterator also yields items appended while it runs
            try:
                for callback, args in calls:
                    callback(*args)
            finally:
                done = len(bucket) - length_hint(calls)
                self.events_processed += done
                del bucket[:done]
                if bucket:  # a callback raised: keep the rest pending
                    heappush(heap, key)
                else:
                    del buckets[key]
        if until is not None:
            self.now = until
