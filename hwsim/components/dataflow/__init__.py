"""Dataflow accelerators with three memory tiers (SambaNova SN40L: on-chip SRAM, HBM, DDR)."""
