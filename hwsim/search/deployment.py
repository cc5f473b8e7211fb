"""The silicon a design point buys: its machine, once per serving replica, plus the decode machine
of a disaggregated point, once per decode replica. Area and cost objectives of a serving search count
all of it, so that more replicas (or a second pool) cost what they add (the roll-up and die cost:
hwsim/search/area.py)."""
from __future__ import annotations

from dataclasses import replace

from hwsim.config.loader import find_file, load_document
from hwsim.machine import ARCHITECTURES_DIR
from hwsim.search.area import MachineArea, machine_area


def _machine_data(name: str) -> dict:
    """A machine file's data (after `extends:`), by path or shipped name."""
    return load_document(find_file(name, ARCHITECTURES_DIR, "architecture"), search_dirs=[ARCHITECTURES_DIR]).data


def deployment_area(task: dict) -> MachineArea:
    """The area roll-up of a resolved point (hwsim/sweep/points.py): the machine's components times
    the serving replicas, and the decode machine's components as 'decode.<name>' times the decode
    replicas."""
    area = machine_area(task["machine"])
    serving = task.get("serving")
    if not serving:
        return area
    components = [replace(c, copies=c.copies * serving["replicas"]) for c in area.components]
    unknown = list(area.unknown)
    if serving["decode_machine"]:
        decode = machine_area(_machine_data(serving["decode_machine"]))
        components += [replace(c, name=f"decode.{c.name}", copies=c.copies * serving["decode_replicas"])
                       for c in decode.components]
        unknown += [f"decode.{name}" for name in decode.unknown]
    return MachineArea(area.machine, tuple(components), tuple(unknown))
