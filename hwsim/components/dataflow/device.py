"""`type: dataflow_device`: a streaming dataflow accelerator with three memory tiers (SambaNova SN40L,
arXiv 2405.07518): on-chip SRAM that fused operators stream through, HBM that holds the model being
run, and DDR that holds a library of models (Samba-CoE's experts) switched into HBM on demand.

It extends the roofline device (``analytic_device``: peaks, HBM, per-kernel costs) but times every
kernel as a streaming pipeline on its PCUs and PMUs (``hwsim.components.dataflow.pipeline``); an
unfused operator is a pipeline of one stage: max(FLOPs / peak, bytes / HBM bandwidth) plus its fill.
What the dataflow fabric and the tiers add:

- ``pcus``, ``pmus``, ``sram``: the compute units, the memory units and their SRAM. ``mapping.dataflow``
  names this component and fuses each decoder layer (each rank's part between collectives) whose
  streaming working set fits on them into one operator (``hwsim.mapping.dataflow``), so its HBM
  traffic is its weights, its KV cache and its input and output; that operator runs as a spatial
  pipeline of its operators (``hwsim.components.dataflow.pipeline``: the slowest stage or the shared
  HBM stream, plus the fill);
- ``ddr``: the model library. Switching a model in copies its bytes from DDR to HBM at the DDR's
  bandwidth: ``switch_s(n) = n / ddr.bandwidth`` (``library_size(n)``: how many models of ``n`` bytes
  the DDR holds). A step's own bytes live in HBM (``memory``), as on the analytic device.
"""
from __future__ import annotations

import math
from typing import Optional

from pydantic import model_validator

from hwsim.components.analytic.device import AnalyticDevice, AnalyticDeviceParams, Memory
from hwsim.components.base import OpTiming, register
from hwsim.components.dataflow import pipeline
from hwsim.config.counts import Count
from hwsim.config.units import ByteSize


class DataflowDeviceParams(AnalyticDeviceParams):
    assumptions: Optional[str] = None    # what the sources leave open and the machine file chose
    pcus: Count                          # pattern compute units: a fused kernel's stages run on them
    pmus: Count                          # pattern memory units: the SRAM, as a fused kernel's tile buffers
    sram: ByteSize                       # on-chip SRAM (bytes): all the PMUs together
    ddr: Memory                          # the model library: capacity (bytes) and DDR -> HBM bandwidth (B/s)

    @model_validator(mode="after")
    def _no_gpu_kernels(self):
        if self.gemm is not None or self.rows is not None:
            raise ValueError("gemm and rows model GPU kernels; a dataflow_device times every kernel as a "
                             "pipeline on its pcus and pmus")
        return self


@register
class DataflowDevice(AnalyticDevice):
    """Roofline device whose fused layers stream through its PCUs and PMUs.

    Models wait in a DDR tier and are switched into HBM."""

    type_name = "dataflow_device"
    Params = DataflowDeviceParams

    def fabric(self, fmt: str) -> pipeline.Fabric:
        """The chip's PCUs and PMUs, computing in ``fmt``, streaming from HBM."""
        p = self.params
        return pipeline.Fabric(p.pcus, p.pmus, p.sram, self._peak(fmt), p.memory.streaming)

    def fits(self, stages) -> bool:
        """Whether operators ``stages`` stream through the chip as one fused kernel."""
        return pipeline.fits(list(stages), self.fabric(self._format(stages[0])))

    def time(self, op):
        """Every kernel as a pipeline: a fused one of its ``stages``, any other operator of itself alone
        (all the PCUs, paying its own fill)."""
        fmt = self._format(op)
        seconds, bound = pipeline.kernel_seconds(list(op.stages or (op,)), op.total_bytes, self.fabric(fmt))
        return OpTiming(seconds + self._overhead_s(op), bound, used={"compute": op.flops, "memory": op.total_bytes},
                        floor_s={"compute": op.flops / self._peak(fmt),
                                 "memory": op.total_bytes / self.params.memory.bandwidth})

    def switch_s(self, nbytes: float) -> float:
        """Seconds to switch in a model of ``nbytes`` bytes: copied from DDR to HBM at DDR bandwidth."""
        return nbytes / self.params.ddr.bandwidth

    def library_size(self, nbytes: float) -> int:
        """How many models of ``nbytes`` bytes the DDR tier holds."""
        return math.floor(self.params.ddr.capacity / nbytes)
