"""Memory dies (HBM stacks, DRAM, NAND) priced at a published market price per quoted capacity.

No published DRAM or NAND wafer price or cost per mm^2 was found for the die-cost model of area.py, so
a component that carries memory dies adds them to the machine's cost as dies bought at a market price
(memory_prices.yaml, one sourced row per kind, quoted as `usd` per `per` of capacity). The capacity is a
parameter the block names (`memory.capacity`), so a search that sweeps it prices each design's memory.
The memory's area is not counted.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import model_validator

from hwsim.config.errors import did_you_mean
from hwsim.config.schema import Strict
from hwsim.config.units import parse_quantity

MEMORY_PRICES = yaml.safe_load(Path(__file__).with_name("memory_prices.yaml").read_text())


class MemorySpec(Strict):
    """Memory dies bought with a component: their kind (a row of memory_prices.yaml) and the parameter
    that holds their capacity (`memory.capacity`, or `pim.capacity` for another component's)."""

    kind: str
    capacity: str

    @model_validator(mode="after")
    def _priced(self):
        if self.kind not in MEMORY_PRICES:
            raise ValueError(f"no memory price for kind '{self.kind}'{did_you_mean(self.kind, MEMORY_PRICES)}; "
                             f"kinds: {', '.join(MEMORY_PRICES)} (hwsim/search/memory_prices.yaml)")
        return self


def memory_usd(spec: MemorySpec, values: dict) -> tuple[float, str]:
    """Price of the memory dies `spec` names, and the line that says how it was got (ValueError if the
    capacity parameter is missing or not a size)."""
    if spec.capacity not in values:
        raise ValueError(f"memory.capacity: no parameter '{spec.capacity}'{did_you_mean(spec.capacity, values)}")
    try:
        size = parse_quantity(values[spec.capacity], "size")
    except ValueError as exc:
        raise ValueError(f"memory.capacity: '{spec.capacity}' is not a size ({exc})") from None
    row = MEMORY_PRICES[spec.kind]
    return size / parse_quantity(row["per"], "size") * row["usd"], (
        f"; {spec.kind} memory ({spec.capacity}: {values[spec.capacity]}) at {row['usd']} USD per {row['per']}: "
        f"{row['source']}")
