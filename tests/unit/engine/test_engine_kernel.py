"""Simulator: (time, priority, seq) order, run(until) semantics, errors, determinism."""
import heapq
import random
from itertools import count

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.engine import CLOCK, EVENT, NORMAL, STAT, Simulator


def logging_sim():
    sim, log = Simulator(), []

    def record(label):
        log.append((sim.now, label))
    return sim, log, record


def test_events_run_in_time_order_with_now_set():
    sim, log, record = logging_sim()
    for t in (30, 10, 20, 0):
        sim.schedule(t, record, f"t{t}")
    sim.run()
    assert log == [(0, "t0"), (10, "t10"), (20, "t20"), (30, "t30")]
    assert sim.now == 30
    assert sim.events_processed == 4


def test_same_time_runs_by_priority_then_insertion_order():
    sim, log, record = logging_sim()
    sim.schedule(5, record, "stat", priority=STAT)
    sim.schedule(5, record, "event-a")
    sim.schedule(5, record, "clock", priority=CLOCK)
    sim.schedule(5, record, "event-b", priority=EVENT)
    sim.schedule(5, record, "event-c", priority=NORMAL)
    sim.run()
    assert [label for _, label in log] == ["clock", "event-a", "event-b", "event-c", "stat"]
    assert CLOCK < EVENT == NORMAL < STAT


def test_args_are_passed_and_schedule_at_is_absolute():
    sim, log, record = logging_sim()
    sim.schedule(100, lambda: sim.schedule_at(150, record, "abs"))
    sim.schedule(100, lambda: sim.schedule(50, record, "rel"))
    sim.run()
    assert log == [(150, "abs"), (150, "rel")]


def test_events_scheduled_for_the_running_key_run_fifo_after_it():
    sim, log, record = logging_sim()

    def first():
        record("first")
        sim.schedule(0, record, "zero-delay")
    sim.schedule(7, first)
    sim.schedule(7, record, "second")
    sim.schedule(7, record, "stat", priority=STAT)
    sim.run()
    assert [label for _, label in log] == ["first", "second", "zero-delay", "stat"]


def test_more_urgent_event_for_now_runs_right_after_the_running_key():
    """It cannot run in the past: after all EVENTs of t=7, before the STATs of t=7."""
    sim, log, record = logging_sim()

    def first():
        record("first")
        sim.schedule(0, record, "clock", priority=CLOCK)
    sim.schedule(7, first)
    sim.schedule(7, record, "second")
    sim.schedule(7, record, "stat", priority=STAT)
    sim.run()
    assert [label for _, label in log] == ["first", "second", "clock", "stat"]


def test_run_until_stops_before_events_at_until_and_sets_now():
    sim, log, record = logging_sim()
    for t in (10, 20, 30):
        sim.schedule(t, record, t)
    sim.run(until=20)
    assert log == [(10, 10)]
    assert sim.now == 20
    assert sim.peek() == 20
    sim.run(until=31)
    assert log == [(10, 10), (20, 20), (30, 30)]
    assert sim.now == 31


def test_run_until_advances_an_idle_simulator():
    sim = Simulator()
    sim.run(until=1_000)
    assert sim.now == 1_000
    assert sim.peek() is None


def test_peek_from_a_callback_sees_the_next_key_after_the_running_one():
    sim, seen = Simulator(), []

    def peek():
        seen.append(sim.peek())

    def schedule_then_peek():
        sim.schedule(5, peek)
        peek()
    sim.schedule(10, peek)  # a lone event
    sim.schedule(20, schedule_then_peek)  # two events share t=20
    sim.schedule(20, peek)
    sim.run()
    assert seen == [20, 25, 25, None]
    assert sim.now == 25


def test_step_runs_one_event_in_the_same_order_as_run():
    def build():
        sim, log, record = logging_sim()
        for i, (t, p) in enumerate([(5, EVENT), (5, CLOCK), (3, STAT), (5, EVENT), (5, EVENT)]):
            sim.schedule(t, record, i, priority=p)
        return sim, log
    by_run, run_log = build()
    by_run.run()
    by_step, step_log = build()
    while by_step.peek() is not None:
        by_step.step()
    assert step_log == run_log == [(3, 2), (5, 1), (5, 0), (5, 3), (5, 4)]
    assert by_step.events_processed == by_run.events_processed == 5
    with pytest.raises(RuntimeError):
        by_step.step()


def test_a_raising_callback_leaves_the_later_events_pending():
    sim, log, record = logging_sim()

    def boom():
        raise KeyError("boom")
    sim.schedule(1, record, "a")
    sim.schedule(1, boom)
    sim.schedule(1, record, "b")
    sim.schedule(2, record, "c")
    with pytest.raises(KeyError):
        sim.run()
    assert sim.events_processed == 2
    sim.run()
    assert [label for _, label in log] == ["a", "b", "c"]
    assert sim.events_processed == 4
    sim.schedule(1, boom)  # a lone event
    sim.schedule(2, record, "d")
    with pytest.raises(KeyError):
        sim.run()
    assert sim.peek() == sim.now + 1
    sim.run()
    assert [label for _, label in log] == ["a", "b", "c", "d"]


@pytest.mark.parametrize("bad", [-1, 1.0, 1.5, "3", None, True])
def test_bad_delay_is_a_value_error(bad):
    sim = Simulator()
    with pytest.raises(ValueError, match="delay_ps must be a non-negative integer"):
        sim.schedule(bad, print)


def test_past_or_non_int_times_are_value_errors():
    sim = Simulator()
    sim.run(until=100)
    with pytest.raises(ValueError, match=r"time_ps=99 is in the past \(now=100 ps\)"):
        sim.schedule_at(99, print)
    with pytest.raises(ValueError, match="time_ps must be a non-negative integer"):
        sim.schedule_at(150.0, print)
    with pytest.raises(ValueError, match="until=50 is in the past"):
        sim.run(until=50)
    with pytest.raises(ValueError, match="until must be a non-negative integer"):
        sim.run(until=1e3)
    for priority in (-1, 256, 1.0, None):
        with pytest.raises(ValueError, match="priority must be"):
            sim.schedule(1, print, priority=priority)
    assert sim.peek() is None


def test_numpy_integer_times_are_accepted():
    sim, log, record = logging_sim()
    sim.schedule(np.int64(5), record, "d")
    sim.schedule_at(np.uint32(7), record, "a")
    sim.run()
    assert log == [(5, "d"), (7, "a")]
    assert type(sim.now) is int


def self_rescheduling_log(seed):
    """1000 events from 20 components rescheduling with seeded delays that often tie."""
    sim, rng, log = Simulator(), random.Random(seed), []

    def fire(component):
        log.append((sim.now, component))
        if len(log) < 1000:
            sim.schedule(rng.choice((0, 100, 200, 300)), fire, component,
                         priority=rng.choice((CLOCK, EVENT, STAT)))
    for component in range(20):
        sim.schedule(rng.randrange(300), fire, component)
    sim.run()
    return log


def test_identical_runs_produce_identical_logs():
    assert self_rescheduling_log(7) == self_rescheduling_log(7)
    assert self_rescheduling_log(7) != self_rescheduling_log(8)


schedules = st.lists(st.tuples(st.integers(0, 50), st.sampled_from([CLOCK, EVENT, STAT])),
                     max_size=60)


@given(schedules)
def test_processed_order_is_sorted_time_priority_seq(events):
    sim, log = Simulator(), []
    for seq, (time, priority) in enumerate(events):
        sim.schedule_at(time, log.append, (time, priority, seq), priority=priority)
    sim.run()
    assert log == sorted(log) == sorted((t, p, s) for s, (t, p) in enumerate(events))
    assert sim.events_processed == len(events)


spawns = st.lists(st.lists(st.tuples(st.integers(0, 20), st.sampled_from([CLOCK, EVENT, STAT])),
                           max_size=3), min_size=1, max_size=40)


def children(spawn, name, now, priority, n_run):
    """Events that event ``name`` schedules: (time, priority), never more urgent than itself at
    the same time (the one case where the order is not a plain heap's, tested above)."""
    if n_run >= 200:
        return []
    return [(now + delay, max(child, priority) if delay == 0 else child)
            for delay, child in spawn[name % len(spawn)]]


def reference_order(initial, spawn):
    heap, log, seq = [], [], count()
    for time, priority in initial:
        heapq.heappush(heap, (time, priority, next(seq)))
    while heap:
        time, priority, name = heapq.heappop(heap)
        log.append(name)
        for event in children(spawn, name, time, priority, len(log)):
            heapq.heappush(heap, (*event, next(seq)))
    return log


def kernel_order(initial, spawn, split_ps):
    sim, log, seq = Simulator(), [], count()

    def fire(name, priority):
        log.append(name)
        for time, child in children(spawn, name, sim.now, priority, len(log)):
            sim.schedule_at(time, fire, next(seq), child, priority=child)
    for time, priority in initial:
        sim.schedule_at(time, fire, next(seq), priority, priority=priority)
    sim.run(until=split_ps)
    sim.run()
    return log


@settings(max_examples=100)
@given(schedules, spawns, st.integers(0, 80))
def test_dynamic_schedules_run_in_the_order_of_a_reference_heap(initial, spawn, split_ps):
    assert kernel_order(initial, spawn, split_ps) == reference_order(initial, spawn)
