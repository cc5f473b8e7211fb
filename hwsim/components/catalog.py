"""Imports every component implementation so each registers its `type:` name."""
from hwsim.components.analytic import device  # noqa: F401
from hwsim.components.flash import cambricon  # noqa: F401
from hwsim.components.flash import storage_attention  # noqa: F401
from hwsim.components.sram_lut import engine  # noqa: F401
from hwsim.components.npu import npu  # noqa: F401
from hwsim.components.dram import pim_device  # noqa: F401
from hwsim.components.host import vector_unit  # noqa: F401
from hwsim.components.interconnect import fabric  # noqa: F401
