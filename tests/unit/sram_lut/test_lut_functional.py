"""Bit-serial LUT matmul equals a plain numpy matmul, bit for bit, for every shape and width."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hwsim.components.sram_lut import functional as lut


@st.composite
def problems(draw, float_acts=False):
    bits = draw(st.integers(1, 4))
    signed = draw(st.booleans())
    g = draw(st.sampled_from([1, 2, 3, 4, 5]))
    m, n, groups = draw(st.integers(1, 4)), draw(st.integers(1, 6)), draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lo, hi = lut.code_range(bits, signed)
    q = rng.integers(lo, hi + 1, (n, groups * g))
    if float_acts:  # fp16 over its whole range, subnormals included
        a = (rng.standard_normal((m, groups * g)) * 10.0 ** rng.integers(-7, 4, (m, groups * g)))
        a = np.clip(a, -60000, 60000).astype(np.float16)
    else:
        a = rng.integers(-128, 128, (m, groups * g)).astype(np.int8)
    return a, q, bits, signed, g


@settings(max_examples=200, deadline=None)
@given(problems(), st.booleans())
def test_int8_activations_bit_exact(problem, half):
    a, q, bits, signed, g = problem
    expected = a.astype(np.int64) @ q.T
    got = lut.lut_matmul(a, q, bits, signed=signed, g=g, half=half)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=200, deadline=None)
@given(problems(float_acts=True))
def test_fp16_activations_bit_exact(problem):
    a, q, bits, signed, g = problem
    expected = a.astype(np.float64) @ q.T.astype(np.float64)
    np.testing.assert_array_equal(lut.lut_matmul(a, q, bits, signed=signed, g=g), expected)


def test_table_is_odd_symmetric_and_half_holds_msb_entries():
    a = np.array([[3, -5, 7, 11]])
    full = lut.full_tables(a, 4)[0, 0]
    np.testing.assert_array_equal(full, -full[::-1])        # T[~idx] = -T[idx]
    assert full[0] == -16 and full[15] == 16                # -a1-a2-a3-a4 .. +a1+a2+a3+a4
    np.testing.assert_array_equal(lut.half_tables(a, 4)[0, 0], full[8:])


def test_bit_planes_of_twos_complement_codes():
    planes = lut.bit_planes(np.array([-8, -1, 5]), 4)
    np.testing.assert_array_equal(planes.T, [[0, 0, 0, 1], [1, 1, 1, 1], [1, 0, 1, 0]])
    np.testing.assert_array_equal(lut.plane_coefficients(4, signed=True), [1, 2, 4, -8])


@settings(max_examples=100, deadline=None)
@given(problems(float_acts=True))
def test_quantized_tables_stay_within_their_bound(problem):
    a, q, bits, signed, g = problem
    exact = a.astype(np.float64) @ q.T.astype(np.float64)
    err = np.abs(lut.lut_matmul_quantized(a, q, bits, signed=signed, g=g) - exact)
    assert np.all(err <= lut.bound_quantized(a, bits, g=g)[:, None] * (1 + 1e-9) + 1e-12)


def test_quantized_tables_are_int8_with_one_scale_per_table():
    entries, scale = lut.quantize_tables(np.array([[[-254.0, 127.0, 0.0, 2.0]]]))
    assert entries.dtype == np.int8
    np.testing.assert_array_equal(entries, [[[-127, 64, 0, 1]]])   # 127/2 = 63.5 rounds to even 64
    np.testing.assert_array_equal(scale, [[[2.0]]])


def test_k_must_divide_into_groups():
    with pytest.raises(ValueError, match="multiple of the group size"):
        lut.lut_matmul(np.ones((1, 6), np.int8), np.ones((1, 6), np.int64), 2, g=4)
