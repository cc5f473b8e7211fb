"""Mapping onto several devices: expert placement (``placement``), parallelism plans that rewrite a
one-device trace into per-device operators with the communication they need (``parallel``), and
expert offloading caches (``offload``)."""
