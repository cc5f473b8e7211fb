"""KV-cache moves over a link: a transfer of n bytes takes the link's latency plus n over its
bandwidth (the sustained payload rate when the preset gives one), the closed form splitwise-sim
uses for KV transfers (serving.md section 5). Swapping (serving.md section 6) moves blocks between
the device and the host pool this way, and the engine waits for the move before it runs the
iteration (vLLM V0's worker issues the cache swaps, then executes the model)."""
from __future__ import annotations

from hwsim.components.interconnect.link import LinkSpec
from hwsim.components.interconnect.presets import link_preset


def transfer_s(link: LinkSpec | str, nbytes: float) -> float:
    """Seconds to move `nbytes` over `link` (a LinkSpec or a shipped preset name); 0 bytes cost nothing."""
    link = link_preset(link) if isinstance(link, str) else link
    return link.latency + nbytes / (link.sustained or link.bandwidth) if nbytes else 0.0
