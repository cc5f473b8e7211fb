"""Analytic (roofline) devices: peak compute per format, one memory, no internal structure."""
