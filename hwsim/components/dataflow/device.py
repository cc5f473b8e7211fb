"""`type: dataflow_device`: a streaming dataflow accelerator with three memory tiers (SambaNova SN40L,
arXiv 2405.07518): on-chip SRAM that fused operators stream through, HBM that holds the model being
run, and DDR that holds a library of models (Samba-CoE's experts) switched into HBM on demand.

It times operators as the roofline device it extends (``analytic_device``: max(FLOPs / peak, bytes /
HBM bandwidth)). What the tiers add:

- ``sram``: capacity of the on-chip memory units. ``mapping.dataflow`` names this component and fuses
  each decoder layer whose intermediate tensors fit in it into one operator
  (``hwsim.mapping.dataflow``), so a layer's HBM traffic is its weights, its KV cache and its input
  and output, and its compute and memory traffic overlap;
- ``ddr``: the model library. Switching a model in copies its bytes from DDR to HBM at the DDR's
  bandwidth: ``switch_s(n) = n / ddr.bandwidth`` (``library_size(n)``: how many models of ``n`` bytes
  the DDR holds). A step's own bytes live in HBM (``memory``), as on the analytic device.
"""
from __future__ import annotations

import math
from typing import Optional

from hwsim.components.analytic.device import AnalyticDevice, AnalyticDeviceParams, Memory
from hwsim.components.base import register
from hwsim.config.units import ByteSize


class DataflowDeviceParams(AnalyticDeviceParams):
    assumptions: Optional[str] = None    # what the sources leave open and the machine file chose
    sram: ByteSize                       # on-chip SRAM (bytes) that a fused layer's intermediates stay in
    ddr: Memory                          # the model library: capacity (bytes) and DDR -> HBM bandwidth (B/s)


@register
class DataflowDevice(AnalyticDevice):
    """Roofline device with on-chip SRAM for fused layers and a DDR tier of models switched into HBM."""

    type_name = "dataflow_device"
    Params = DataflowDeviceParams

    def switch_s(self, nbytes: float) -> float:
        """Seconds to switch in a model of ``nbytes`` bytes: copied from DDR to HBM at DDR bandwidth."""
        return nbytes / self.params.ddr.bandwidth

    def library_size(self, nbytes: float) -> int:
        """How many models of ``nbytes`` bytes the DDR tier holds."""
        return math.floor(self.params.ddr.capacity / nbytes)
