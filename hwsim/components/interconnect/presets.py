"""Shipped link presets: one YAML file per link in ``presets/``, each with ``source:`` and tags.

Tags in the sources follow the reference notes: [V] read in a file or spec, [V2] from a secondary
summary of a paper, [I] inference or recollection not checked here.
"""
from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path

from hwsim.config.loader import load_document
from hwsim.config.schema import parse

from .link import LinkSpec

PRESET_DIR = Path(__file__).with_name("presets")


def link_preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


@lru_cache(maxsize=None)
def link_preset(name: str) -> LinkSpec:
    """The checked spec of a shipped link preset, e.g. ``link_preset("nvlink4_h100")``."""
    names = link_preset_names()
    if name not in names:
        hint = difflib.get_close_matches(name, names, n=1)
        raise KeyError(f"unknown link preset {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                       + f" (shipped: {', '.join(names)})")
    document = load_document(PRESET_DIR / f"{name}.yaml")
    return parse(LinkSpec, document.data, document.source)
