"""TeLLMe ternary grouping: 27 patterns, 13 computed entries, exact results."""
import numpy as np
from hypothesis import given, settings, strategies as st

from hwsim.components.sram_lut import ternary


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 40), st.integers(0, 2**32 - 1), st.booleans())
def test_ternary_matmul_bit_exact(m, n, k, seed, fp16):
    rng = np.random.default_rng(seed)
    w = rng.integers(-1, 2, (n, k))
    if fp16:
        a = rng.standard_normal((m, k)).astype(np.float16)
        expected = a.astype(np.float64) @ w.T
    else:
        a = rng.integers(-128, 128, (m, k)).astype(np.int8)
        expected = a.astype(np.int64) @ w.T
    np.testing.assert_array_equal(ternary.ternary_matmul(a, w), expected)


def test_pattern_symmetry_and_index_width():
    pw = ternary.pattern_weights()
    np.testing.assert_array_equal(pw[::-1], -pw)            # pattern 26 - p is the negation of p
    np.testing.assert_array_equal(pw[ternary.ZERO], [0, 0, 0])
    assert ternary.HALF == 13 and ternary.PATTERNS <= 2 ** ternary.INDEX_BITS


def test_encode_pads_k_to_three():
    assert ternary.encode(np.array([[1, -1, 0, 1]])).tolist() == [[2 + 0 + 9, 2 + 3 + 9]]
