"""The command log both DRAM kernels append to doubles without losing entries."""
import numpy as np

from hwsim.components.dram.timing_kernel import grow_log


def test_grow_log_doubles_every_array_and_keeps_the_entries():
    t, c, a = np.arange(3), np.arange(3) + 10, np.arange(12).reshape(3, 4)
    t2, c2, a2 = grow_log(t, c, a)
    assert (t2.shape, c2.shape, a2.shape) == ((6,), (6,), (6, 4))
    assert (t2[:3] == t).all() and (c2[:3] == c).all() and (a2[:3] == a).all()
