"""Plain integer counts in machine files: lanes, rows, tiles, ports, queue depths, cycle counts.

A count has no unit, but like a quantity it has a plausible range: beyond it the value is a typo,
and the component models that size arrays by it (an NPU's tiles, a NoC's routers, a LUT unit's
lanes) or loop over it would exhaust memory, hang or overflow instead of giving an error. So every
integer count parameter of a component uses one of these bounded types, and a huge value is a
one-line config error.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

# replicated units of one kind in one part (cores, lanes, PE rows, tiles, banks, ports, channels,
# devices, queue slots): 2^20 is above the largest real chip (Cerebras WSE-3: 900,000 cores)
COUNT_LIMIT = 2**20
# devices of one machine (ranks, parallelism degrees): each is its own component instance and a
# fabric keeps a ranks x ranks traffic matrix; 4096 is above the largest scale-up domain built
# (CloudMatrix384: 384 NPUs)
DEVICE_LIMIT = 4096
# fixed cycle counts (pipeline depth, setup, drain): 10^9 cycles is a second at 1 GHz per operation
CYCLE_LIMIT = 10**9
# storage sizes given in bits (a LUT unit's table capacity): 2^43 bits is 1 TiB of on-chip SRAM
BIT_LIMIT = 2**43



def bounded(limit: int, low: int = 1):
    """An integer type from `low` to `limit`: for a part whose simulation cost grows with a count
    faster than the shared limits allow (a cycle-level NoC), with the part's own named limit."""
    return Annotated[int, Field(ge=low, le=limit)]


Count = bounded(COUNT_LIMIT)            # at least one: a part needs one unit to work
CountOrZero = bounded(COUNT_LIMIT, 0)   # 0 means none, or a default the part documents
Devices = bounded(DEVICE_LIMIT)         # devices, ranks or a parallelism degree of one machine
Cycles = bounded(CYCLE_LIMIT, 0)        # clock cycles; 0 means no such delay
Bits = bounded(BIT_LIMIT, 0)            # bits; 0 means none, or unlimited where documented
