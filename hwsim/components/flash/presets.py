"""Flash presets as data (presets.yaml), each with its `source:`; overrides for sweeps."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from hwsim.config.errors import did_you_mean
from hwsim.components.flash.geometry import FlashGeometry

PRESETS_FILE = Path(__file__).with_name("presets.yaml")


@cache
def _raw() -> dict:
    return yaml.safe_load(PRESETS_FILE.read_text())


def preset_names() -> list[str]:
    return sorted(_raw())


def flash_preset(name: str, **overrides) -> FlashGeometry:
    """The named preset, with keys replaced by `overrides` (e.g. channels=16)."""
    if name not in _raw():
        raise KeyError(f"no flash preset '{name}'{did_you_mean(name, _raw())}; known: {', '.join(preset_names())}")
    data = {k: v for k, v in _raw()[name].items() if k != "assumption"}
    return FlashGeometry.model_validate({**data, **overrides})
