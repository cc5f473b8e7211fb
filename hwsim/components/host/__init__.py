"""Host / ASIC side of PIM machines: vector units that run softmax, norms, activations and reductions."""
