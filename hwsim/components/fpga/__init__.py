"""FPGA kernels modeled from their HLS loop structure (cycles per loop, one initiation interval each).

attention.py  TeLLMe's attention units: reversed-reordered prefill attention and decoding attention
"""
