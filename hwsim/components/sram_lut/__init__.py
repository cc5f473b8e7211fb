"""SRAM lookup-table (LUT) units for low-bit matmuls: T-MAC, LUT Tensor Core, SAIL, TeLLMe.

functional.py  bit-serial LUT matmul (tables, half tables, table quantisation): exact numbers
ternary.py     TeLLMe-style ternary grouping (3 weights -> one of 27 patterns, 13-entry half table)
timing.py      cycle counts of a LUT unit (closed forms, numpy), matched by the RTL in rtl_models/lut_unit
engine.py      the `lut_engine` component machines place matmuls on
"""
