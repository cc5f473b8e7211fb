"""Imports every component implementation so each registers its `type:` name."""
from hwsim.components.analytic import device  # noqa: F401
