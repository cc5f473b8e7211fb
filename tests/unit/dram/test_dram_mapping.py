"""Address mapping: encode/decode round trips and the documented bit order."""

import numpy as np
import pytest

from hwsim.components.dram.address_mapping import SCHEMES, decode, encode
from hwsim.components.dram.presets import load_preset, preset_names


@pytest.mark.parametrize("name", preset_names())
@pytest.mark.parametrize("scheme", SCHEMES)
def test_round_trip(name, scheme):
    org = load_preset(name).org
    rng = np.random.default_rng(0)
    fields = {"channel": rng.integers(0, org.channels * org.pseudo_channels, 500),
              "rank": rng.integers(0, org.ranks, 500), "bankgroup": rng.integers(0, org.bankgroups, 500),
              "bank": rng.integers(0, org.banks_per_group, 500), "row": rng.integers(0, org.rows, 500),
              "column": rng.integers(0, org.bursts_per_row, 500)}
    addr = encode(fields, org, scheme)
    back = decode(addr, org, scheme)
    assert all(np.array_equal(back[f], fields[f]) for f in fields)
    assert np.array_equal(encode(back, org, scheme), addr)
    assert len(np.unique(addr)) == len({tuple(v) for v in zip(*fields.values())})


def test_bit_order_of_two_schemes():
    org = load_preset("HBM2_2000").org                    # 2 pseudo-channels, 4 BG x 4 banks, 32 B bursts
    line = np.arange(8) * 32
    streaming = decode(line, org, "RoCoBaBgRaCh")
    assert streaming["channel"].tolist() == [0, 1] * 4
    assert streaming["bankgroup"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    row_major = decode(line, org, "RoBaRaCoCh")
    assert row_major["column"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert (row_major["bank"] == 0).all() and (row_major["bankgroup"] == 0).all()


def test_bad_scheme_is_rejected():
    with pytest.raises(ValueError, match="need each of"):
        decode([0], load_preset("DDR4_2400R").org, "RoCoBaBa")
