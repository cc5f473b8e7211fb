"""Events/s of hwsim's kernel against SimPy on one self-rescheduling workload.

Each of C components is a callback that reschedules itself forever after a delay drawn from one
seeded, shared delay sequence; each kernel runs until the simulated time at which about N events
have run. The per-event work outside the kernel is kept to one draw, so the figures compare the
kernels. Ties are FIFO in every kernel, so all draw the same delays in the same order and must run
the same number of events (checked). Time is this process's CPU time, which other load on a
shared machine disturbs less than wall time; kernels alternate within each round.

    python benchmarks/engine.py [--events N] [--components C] [--repeat R]

"many ties": delays from a small set, so many events share a timestamp.
"some ties": delays from a set of 41 multiples of 50 ps.
"few ties":  delays uniform over a wide range, so timestamps rarely repeat.
"""
import argparse
import gc
import random
import time
from heapq import heappop, heappush
from itertools import count
from operator import length_hint
from statistics import mean

import simpy

from hwsim.engine import EVENT, Simulator

WORKLOADS = {  # events per distinct timestamp, with the defaults: ~200, ~25, ~1
    "many ties": lambda rng: rng.choice((1000, 1500, 2000, 3000, 5000)),
    "some ties": lambda rng: rng.randrange(1000, 3001, 50),
    "few ties": lambda rng: rng.randrange(1, 1_000_000),
}


class PlainHeapSimulator:
    """For reference: hwsim's API over the textbook queue, one heap of
    (time, priority, seq, callback, args) tuples."""

    __slots__ = ("now", "_heap", "_seq")

    def __init__(self):
        self.now, self._heap, self._seq = 0, [], count()

    def schedule(self, delay_ps, callback, *args, priority=EVENT):
        if type(delay_ps) is not int or delay_ps < 0:
            raise ValueError(f"bad delay {delay_ps!r}")
        heappush(self._heap, (self.now + delay_ps, priority, next(self._seq), callback, args))

    def run(self, until):
        heap = self._heap
        while heap and heap[0][0] < until:
            self.now, _, _, callback, args = heappop(heap)
            callback(*args)
        self.now = until


def run_callbacks(simulator_class):
    """The workload on a simulator with hwsim's ``schedule``/``run`` API."""
    def run(n_components, until_ps, next_delay):
        sim = simulator_class()
        schedule = sim.schedule

        def component():
            def fire():
                schedule(next_delay(), fire)
            return fire

        for _ in range(n_components):
            schedule(next_delay(), component())
        sim.run(until=until_ps)
    return run


def run_simpy_callbacks(n_components, until_ps, next_delay):
    env = simpy.Environment()
    timeout = env.timeout

    def component():
        def fire(_event):
            timeout(next_delay()).callbacks.append(fire)
        return fire

    for _ in range(n_components):
        timeout(next_delay()).callbacks.append(component())
    env.run(until=until_ps)


def run_simpy_processes(n_components, until_ps, next_delay):
    env = simpy.Environment()
    timeout = env.timeout

    def component():
        while True:
            yield timeout(next_delay())

    for _ in range(n_components):
        env.process(component())
    env.run(until=until_ps)


KERNELS = {
    "hwsim": run_callbacks(Simulator),
    "plain heapq": run_callbacks(PlainHeapSimulator),
    "simpy callbacks": run_simpy_callbacks,
    "simpy processes": run_simpy_processes,
}


def timed_events(kernel, n_components, until_ps, delays):
    """(timed events run, seconds): every component always has one timeout pending, so the
    events run are the delays drawn minus the ones still pending at the end."""
    draws = iter(delays)
    gc.collect()
    start = time.process_time()
    kernel(n_components, until_ps, draws.__next__)
    seconds = time.process_time() - start
    return len(delays) - length_hint(draws) - n_components, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best round counts")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"about {args.events:,} events over {args.components:,} components, "
          f"best of {args.repeat} interleaved rounds")
    for workload, draw in WORKLOADS.items():
        rng = random.Random(args.seed)
        delays = [draw(rng) for _ in range(args.events * 11 // 10 + args.components)]
        until_ps = int(args.events * mean(delays) / args.components)
        rates = dict.fromkeys(KERNELS, 0.0)
        counts = set()
        for _ in range(args.repeat):
            for name, kernel in KERNELS.items():
                events, seconds = timed_events(kernel, args.components, until_ps, delays)
                rates[name] = max(rates[name], events / seconds)
                counts.add(events)
        assert len(counts) == 1, f"kernels ran different event counts: {counts}"
        ratio = rates["hwsim"] / max(rates["simpy callbacks"], rates["simpy processes"])
        print(f"\n[{workload}]  {counts.pop():,} events in {until_ps:,} ps")
        for name, rate in rates.items():
            print(f"  {name:16s} {rate / 1e6:6.2f} M events/s")
        print(f"  hwsim / fastest SimPy: {ratio:.2f}x")


if __name__ == "__main__":
    main()
