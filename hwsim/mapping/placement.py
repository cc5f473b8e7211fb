"""Expert placement: which devices hold each routed expert of each MoE layer, and what it costs.

A ``Placement`` gives every (MoE layer, expert) the devices holding a copy. Tokens routed to an
expert with several copies are split over them by token index (token t uses copy t mod copies).
Policies (``place(policy, ...)``), all deterministic:

- ``round_robin``: expert e on device e mod D.
- ``grouped``: expert group g on device g mod D. With Pangu's MoGE routing (one expert per group
  per token) every device receives exactly tokens x groups / D token-expert pairs: balanced by
  construction, whatever the routing.
- ``load_balanced`` (EPLB-style): ``redundant`` extra copies go one at a time to the expert with
  the highest load per copy; copies are then packed heaviest first onto the least-loaded device
  with a free slot ((E + redundant) / D slots each).
- ``affinity`` (ExFlow-style): layer 0 round-robin; each next layer's experts go, most co-occurring
  pair first, to the device that served the same tokens' experts at the layer before (counts from
  a calibration routing), E / D experts per device.

Routing arrays are expert ids ``[moe_layers, tokens, top_k]`` (``hwsim.workload.routing``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POLICIES = ("round_robin", "grouped", "load_balanced", "affinity")


@dataclass(frozen=True)
class Placement:
    """``copies[layer][expert]``: the devices holding that expert, in the order tokens use them."""

    devices: int
    copies: tuple[tuple[tuple[int, ...], ...], ...]

    def device_of(self, layer: int, experts: np.ndarray) -> np.ndarray:
        """Device serving each routed id of ``experts`` [tokens, top_k] at ``layer`` (same shape)."""
        table, count = _tables(self.copies[layer])
        token = np.arange(experts.shape[0])[:, None]
        experts = experts.astype(np.intp)
        return table[experts, token % count[experts]]

    def experts_on(self, layer: int, device: int) -> list[int]:
        return [e for e, held in enumerate(self.copies[layer]) if device in held]


def _tables(copies) -> tuple[np.ndarray, np.ndarray]:
    count = np.array([len(c) for c in copies], dtype=np.intp)
    table = np.zeros((len(copies), count.max()), dtype=np.intp)
    for expert, held in enumerate(copies):
        table[expert, :len(held)] = held
    return table, count


def device_sets(placement: Placement, experts: np.ndarray) -> np.ndarray:
    """bool [moe_layers, tokens, devices]: which devices each token's routed experts are on."""
    layers, tokens, _ = experts.shape
    out = np.zeros((layers, tokens, placement.devices), dtype=bool)
    for layer in range(layers):
        np.put_along_axis(out[layer], placement.device_of(layer, experts[layer]), True, axis=1)
    return out


def device_load(placement: Placement, experts: np.ndarray) -> np.ndarray:
    """Token-expert pairs each device serves, [moe_layers, devices]."""
    return np.stack([np.bincount(placement.device_of(layer, experts[layer]).ravel(), minlength=placement.devices)
                     for layer in range(experts.shape[0])])


def imbalance(load: np.ndarray) -> np.ndarray:
    """Busiest device over the mean, per layer (1 is perfectly balanced)."""
    return load.max(axis=-1) / load.mean(axis=-1)


def dispatch_pairs(placement: Placement, layer: int, experts: np.ndarray, home: np.ndarray) -> np.ndarray:
    """[devices, devices] count of (token, device) pairs sent from each token's ``home`` device to
    the devices of its experts at ``layer``; a token goes once to each device however many of its
    experts are there (the diagonal stays local)."""
    devices = placement.devices
    dest = np.zeros((experts.shape[0], devices), dtype=bool)
    np.put_along_axis(dest, placement.device_of(layer, experts), True, axis=1)
    source = np.zeros((experts.shape[0], devices), dtype=bool)
    source[np.arange(experts.shape[0]), home] = True
    return _pair_counts(source, dest)


def _pair_counts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[A, B] counts over tokens of (i, j) with ``a[t, i]`` and ``b[t, j]`` (bool [tokens, A] and
    [tokens, B] with few trues per row): the sparse product a.T @ b, exact and without BLAS."""
    ta, ia = np.nonzero(a)
    tb, ib = np.nonzero(b)
    per_row = np.bincount(tb, minlength=len(b))
    row_start = np.concatenate(([0], np.cumsum(per_row)[:-1]))
    repeat = per_row[ta]
    entry = np.repeat(np.arange(len(ta)), repeat)
    within = np.arange(len(entry)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    cells = ia[entry] * b.shape[1] + ib[row_start[ta[entry]] + within]
    return np.bincount(cells, minlength=a.shape[1] * b.shape[1]).reshape(a.shape[1], b.shape[1])


def cross_device_pairs(placement: Placement, experts: np.ndarray) -> int:
    """Token-device pairs that must cross devices between consecutive MoE layers when a token's
    hidden state stays where its previous layer's experts ran (ExFlow's context-coherent expert
    parallelism): devices of its layer l+1 experts that held none of its layer l experts."""
    held = device_sets(placement, experts)
    return int((held[1:] & ~held[:-1]).sum())


# ---- policies ------------------------------------------------------------------------------------

def place(policy: str, devices: int, experts: int, n_layers: int, calibration: np.ndarray | None = None,
          groups: int = 1, redundant: int = 0) -> Placement:
    """A placement of ``experts`` routed experts per layer over ``devices`` devices.

    ``calibration`` (expert ids [n_layers, tokens, top_k]) is the routing history the
    load_balanced and affinity policies learn from."""
    if policy not in POLICIES:
        raise ValueError(f"unknown placement policy {policy!r}; known: {', '.join(POLICIES)}")
    if redundant and policy != "load_balanced":
        raise ValueError("redundant experts apply to the load_balanced placement only")
    if policy in ("load_balanced", "affinity") and calibration is None:
        raise ValueError(f"the {policy} placement needs a calibration routing")
    if policy == "round_robin":
        layer = tuple((e % devices,) for e in range(experts))
        return Placement(devices, (layer,) * n_layers)
    if policy == "grouped":
        if groups % devices:
            raise ValueError(f"grouped placement puts whole expert groups on devices: {groups} groups "
                             f"do not divide over {devices} devices")
        size = experts // groups
        layer = tuple(((e // size) % devices,) for e in range(experts))
        return Placement(devices, (layer,) * n_layers)
    if (experts + redundant) % devices:         # affinity has no redundant copies: experts % devices
        raise ValueError(f"{experts} experts (+{redundant} redundant) do not fill {devices} devices evenly")
    if policy == "load_balanced":
        loads = np.stack([np.bincount(calibration[layer].ravel(), minlength=experts) for layer in range(n_layers)])
        return Placement(devices, tuple(_balanced(load, devices, redundant) for load in loads))
    return _affinity(devices, experts, calibration)


def _balanced(load: np.ndarray, devices: int, redundant: int) -> tuple[tuple[int, ...], ...]:
    """EPLB: replicate the heaviest load-per-copy experts, then pack copies heaviest first."""
    load = load.astype(float) + 1e-9            # ties (unused experts) break by expert id
    copies = np.ones(load.size, dtype=np.int64)
    for _ in range(redundant):
        copies[np.argmax(load / copies)] += 1
    slots = (load.size + redundant) // devices
    device_load = np.zeros(devices)
    free = np.full(devices, slots)
    held: list[list[int]] = [[] for _ in load]
    holds = np.zeros((load.size, devices), dtype=bool)
    items = sorted(((load[e] / copies[e], e) for e in range(load.size) for _ in range(copies[e])),
                   key=lambda item: (-item[0], item[1]))
    for share, expert in items:
        fits = (free > 0) & ~holds[expert]            # a device with a free slot not holding it yet,
        if not fits.any():                            # else any with a free slot; least loaded first,
            fits = free > 0                           # ties to the lowest device (argmin's first)
        device = int(np.argmin(np.where(fits, device_load, np.inf)))
        held[expert].append(device)
        holds[expert, device] = True
        device_load[device] += share
        free[device] -= 1
    return tuple(tuple(h) for h in held)


def _affinity(devices: int, experts: int, calibration: np.ndarray) -> Placement:
    """Layer by layer: co-occurrence [devices, experts] of a token's previous-layer devices and its
    next-layer experts; assign greedily, largest count first, up to experts/devices per device."""
    slots = experts // devices
    layers = [np.arange(experts) % devices]
    for layer in range(1, calibration.shape[0]):
        previous = Placement(devices, (tuple((int(d),) for d in layers[-1]),))
        was = np.zeros((calibration.shape[1], devices), dtype=bool)
        np.put_along_axis(was, previous.device_of(0, calibration[layer - 1]), True, axis=1)
        now = np.zeros((calibration.shape[1], experts), dtype=bool)
        np.put_along_axis(now, calibration[layer].astype(np.intp), True, axis=1)
        together = _pair_counts(was, now)
        owner = [-1] * experts
        free = [slots] * devices
        left = experts
        for cell in np.argsort(-together, axis=None, kind="stable").tolist():
            device, expert = divmod(cell, experts)
            if owner[expert] < 0 and free[device]:
                owner[expert] = device
                free[device] -= 1
                left -= 1
                if not left:
                    break
        layers.append(owner)
    return Placement(devices, tuple(tuple((int(d),) for d in owner) for owner in layers))
