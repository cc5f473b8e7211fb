"""The PIM data path: an AiM GEMV issued as commands equals numpy's integer product."""

import numpy as np

from hwsim.components.dram.pim_functional import PimBankGroupData, wrap


def test_gemv_by_commands_equals_numpy_with_32_bit_wrap():
    rng = np.random.default_rng(0)
    banks, cols, lanes = 4, 8, 4
    w = rng.integers(-(1 << 15), 1 << 15, (banks, cols * lanes))          # one output neuron per bank
    x = rng.integers(-(1 << 15), 1 << 15, cols * lanes)
    data = PimBankGroupData(banks, 2, cols, lanes, np.stack([w, w[::-1]], axis=1))
    for c in range(cols):
        data.apply("WR_GB", col=c, data=x[c * lanes:(c + 1) * lanes])
    data.apply("ACT_ABK", row=0)
    for c in range(cols):
        data.apply("MAC_ABK", row=0, col=c)
    np.testing.assert_array_equal(data.apply("RD_MAC"), wrap(w @ x, 32))
    assert not data.acc.any()                                              # RD_MAC clears the accumulators


def test_written_rows_survive_precharge_and_relu_clamps():
    data = PimBankGroupData(2, 2, 1, 2)
    data.apply("ACT", bank=1, row=1)
    data.apply("WR", bank=1, row=1, col=0, data=[3, -70000])
    data.apply("PRE", bank=1)
    np.testing.assert_array_equal(data.memory[1, 1, 0], [3, wrap(-70000, 16)])
    data.acc[:] = [-5, 7]
    data.apply("AF")
    np.testing.assert_array_equal(data.acc, [0, 7])
