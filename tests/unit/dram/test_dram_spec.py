"""Presets load with provenance; inconsistent or misspelled timings are rejected with clear errors."""

import pytest

from hwsim.components.dram.presets import load_preset, load_spec_file, preset_names, PRESET_DIR
from hwsim.components.dram.spec import with_overrides

REQUIRED = {"DDR4_2400R", "DDR4_3200AA", "DDR5_4800AN", "LPDDR5_6400", "GDDR6_14000", "HBM2_2000", "HBM3_6400"}
PIM_SOURCES = {"GDDR6_AiM": "aim_simulator", "HBM2_PIM": "PIMSimulator", "HBM3_PIM": "attacc_simulator"}


def test_shipped_presets_load_and_cite_a_source():
    assert REQUIRED | set(PIM_SOURCES) <= set(preset_names())
    for name in preset_names():
        spec = load_preset(name)
        assert spec.name == name and PIM_SOURCES.get(name, "Ramulator 2.1") in spec.source


def test_reference_values():
    """Spot values from reference/pim_dram.md table 3.1."""
    hbm3 = load_preset("HBM3_6400")
    assert (hbm3.tCK_ps, hbm3["nRCD"], hbm3["nRFC"], hbm3["nREFI"]) == (625, 31, 560, 6240)
    assert load_preset("GDDR6_14000").peak_GBps == 28.0
    assert load_preset("HBM2_2000").peak_GBps == 32.0            # 2 pseudo-channels x 16 GB/s


@pytest.mark.parametrize("overrides, rule", [
    ({"nRC": 40}, "nRC >= nRAS + nRP"),
    ({"nRAS": 10}, "nRAS >= nRCD"),
    ({"nRCD": 0}, "nRCD > 0"),
    ({"nCCDL": 2}, "nCCDL >= nCCDS"),
    ({"nREFI": 400}, "nREFI > nRFC"),
    ({"nBL": 8}, "nBL * rate * tCK = burst_length"),
])
def test_inconsistent_timings_are_rejected(overrides, rule):
    with pytest.raises(ValueError) as err:
        with_overrides(load_preset("DDR4_2400R"), **overrides)
    assert "DDR4_2400R" in str(err.value) and rule in str(err.value)


def test_overrides_return_a_new_checked_spec():
    base = load_preset("DDR4_2400R")
    slow = with_overrides(base, nRCD=18)
    assert (slow["nRCD"], base["nRCD"]) == (18, 16)
    assert with_overrides(base, channels=4).org.channels == 4


def test_unknown_override_suggests_a_name():
    with pytest.raises(KeyError, match="did you mean 'nRCD'"):
        with_overrides(load_preset("DDR4_2400R"), nRCDD=3)


def test_unknown_preset_suggests_a_name():
    with pytest.raises(KeyError, match="did you mean 'HBM3_6400'"):
        load_preset("HBM3_640")


def test_preset_file_with_misspelled_keys_is_rejected(tmp_path):
    text = (PRESET_DIR / "DDR4_2400R.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text.replace("tCK_ps:", "tck_ps:"))
    with pytest.raises(ValueError, match="did you mean 'tCK_ps'"):
        load_spec_file(tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text(text.replace("nRFC:", "nRFCC:"))
    with pytest.raises(ValueError, match="'nRFCC' is not used by DDR4; did you mean 'nRFC'"):
        load_spec_file(tmp_path / "b.yaml")
