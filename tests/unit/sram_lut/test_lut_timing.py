"""LUT unit cycle counts: closed forms against a slow per-cycle reference and exact numbers."""
import numpy as np
from hypothesis import given, settings, strategies as st

from hwsim.components.sram_lut import functional as lut
from hwsim.components.sram_lut.timing import LutUnit


def per_cycle_reference(unit: LutUnit, a, q, bits, signed):
    """Tick the unit one cycle at a time: a table builder and a lookup datapath sharing
    1 (or, with overlap, 2) table buffers. Returns (cycles, outputs) computed with real lookups."""
    m, k = a.shape
    n = q.shape[0]
    g, steps = unit.g, int(unit.steps(k))
    kp = steps * unit.tables * g                              # K padded with zero activations
    a = np.pad(a.astype(np.int64), ((0, 0), (0, kp - k)))
    idx = lut.group_indices(lut.bit_planes(np.pad(q, ((0, 0), (0, kp - k))), bits), g)  # (bits, n, groups)
    coef = lut.plane_coefficients(bits, signed)
    cols = -(-n // unit.lanes)
    out = np.zeros((m, n), np.int64)
    cycle = 0
    for r0 in range(0, m, unit.rows):
        rows = range(r0, min(r0 + unit.rows, m))
        cycle += unit.fixed
        tables = {}                                            # step -> half tables of that step's groups
        built_acts, build_step, look_step, look_pos = 0, 0, 0, 0
        acc = np.zeros((m, n), np.int64)
        while look_step < steps:
            cycle += 1
            ready = set(tables)                                # tables complete before this cycle
            occupied = len(tables)                             # buffers freed this cycle reopen next cycle
            # lookup datapath: one (column block, bit plane) per cycle on a ready step
            if look_step in ready:
                cb, plane = divmod(look_pos, bits)
                groups = range(look_step * unit.tables, (look_step + 1) * unit.tables)
                for col in range(cb * unit.lanes, min((cb + 1) * unit.lanes, n)):
                    for row in rows:
                        for t, grp in enumerate(groups):
                            acc[row, col] += coef[plane] * lut.lookup_half(
                                tables[look_step][row][None, t:t + 1], idx[plane, col, grp][None, None], g)[0, 0, 0]
                look_pos += 1
                if look_pos == cols * bits:
                    del tables[look_step]
                    look_step, look_pos = look_step + 1, 0
            # table builder: consumes acts_per_cycle activations into a free buffer
            if build_step < steps and occupied < (2 if unit.overlap else 1):
                built_acts += unit.acts_per_cycle
                if built_acts >= g * unit.tables:
                    lo = build_step * unit.tables * g
                    block = a[:, lo:lo + unit.tables * g]
                    tables[build_step] = {row: lut.half_tables(block[row:row + 1], g)[0] for row in rows}
                    build_step, built_acts = build_step + 1, 0
        cycle += cols * unit.drain
        twice = acc + coef.sum() * a[:, None, :].sum(axis=-1)
        out[list(rows)] = (twice // 2)[list(rows)]
    return cycle, out


units = st.builds(LutUnit, g=st.integers(1, 4), lanes=st.integers(1, 4), tables=st.integers(1, 3),
                  rows=st.integers(1, 3), acts_per_cycle=st.integers(1, 8), drain=st.integers(0, 2),
                  fixed=st.integers(0, 3), overlap=st.booleans())


@settings(max_examples=40, deadline=None)
@given(units, st.integers(1, 4), st.booleans(), st.integers(1, 4), st.integers(1, 5), st.integers(1, 13),
       st.integers(0, 2**32 - 1))
def test_closed_form_equals_per_cycle_reference(unit, bits, signed, m, n, k, seed):
    rng = np.random.default_rng(seed)
    lo, hi = lut.code_range(bits, signed)
    a = rng.integers(-128, 128, (m, k))
    q = rng.integers(lo, hi + 1, (n, k))
    cycles, out = per_cycle_reference(unit, a, q, bits, signed)
    assert cycles == unit.cycles(m, n, k, bits)
    np.testing.assert_array_equal(out, a @ q.T)


def test_tellme_tlmm_block_counts():
    """TeLLMe HLS: 84 activations read one per cycle, then 1536/16 lookup cycles per K block."""
    tlmm = LutUnit(g=3, lanes=16, tables=28, acts_per_cycle=1, drain=1)
    assert tlmm.precompute_cycles_per_step == 84
    assert tlmm.cycles(1, 1536, 1596, 1) == 19 * 84 + 19 * 96 + 96


def test_bit_serial_time_is_linear_in_weight_bits():
    unit = LutUnit(g=4, lanes=64, rows=2, acts_per_cycle=8)
    m, n, k = 2, 4096, 4096
    look = [int(unit.lookup_cycles(m, n, k, b)) for b in (1, 2, 3, 4)]
    assert look == [look[0] * b for b in (1, 2, 3, 4)]
    assert look[0] == 64 * 1024


def test_elongated_lut_tensor_core_tile_m2n64k4():
    """LUT Tensor Core M2N64K4: table storage M x 2^(K-1) x LUT_BIT, 512 MACs per 1-bit cycle."""
    tc = LutUnit(g=4, lanes=64, rows=2, entry_bits=16)
    assert int(tc.table_bits(4)) == 2 * 8 * 16
    assert tc.macs_per_cycle(bits=1) == 512


def test_vectorised_over_tiles():
    unit = LutUnit(g=4, lanes=8, acts_per_cycle=4)
    got = unit.cycles(np.array([1, 1, 2]), np.array([8, 16, 8]), np.array([16, 16, 16]), np.array([2, 2, 4]))
    np.testing.assert_array_equal(got, [4 + 8 + 1, 4 + 16 + 2, 2 * (4 + 16 + 1)])
