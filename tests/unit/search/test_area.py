"""Area roll-ups and die cost equal their hand sums; bad or missing areas are named."""
import copy
import math

import pytest
from search_toy import EVALUATOR

from hwsim.config.errors import ConfigError
from hwsim.config.loader import load_document
from hwsim.config.units import parse_quantity
from hwsim.machine import ARCHITECTURES_DIR, machine_from_dict
from hwsim.search.area import FIGURES, NODES, AreaUnknown, die_cost_usd, machine_area, sram_mm2
from hwsim.search.memory_cost import MEMORY_PRICES
from hwsim.search.run import run_search
from hwsim.search.spec import load_search


HBM_80GB_USD = 80 * 7        # the A100's 80 GB of HBM2e at LLMCompass's 7 USD/GB (DRAMeXchange, Oct 2023)


def machine_data(name: str) -> dict:
    return load_document(ARCHITECTURES_DIR / f"{name}.yaml", search_dirs=[ARCHITECTURES_DIR]).data


def test_sram_closed_form():
    # 8 MiB at 7 nm: 16 arrays of 512 KiB, 1.70e-7 mm^2 per bit cell, 60.2% of a 512 KiB array is cells
    assert sram_mm2(8 * 2**20, 7) == pytest.approx(16 * 524288 * 8 * 1.70e-7 / 0.602)
    # 48 KiB at 5 nm: one 64 KiB-class array (efficiency 0.559) holding 48 KiB
    assert sram_mm2(48 * 1024, 5) == pytest.approx(48 * 1024 * 8 * 1.25e-7 / 0.559)
    with pytest.raises(ValueError, match="no SRAM bit-cell area at 28 nm"):
        sram_mm2(1024, 28)


def test_npu_rule_closed_form():
    data = machine_data("npu_4x4_mesh")
    data["components"]["npu"]["area"] = {"node_nm": 7}
    machine_from_dict(data)                                   # the area block is valid in a machine file
    area = machine_area(data)
    fpu16 = 685_300 * (10 / 52) ** 2                          # transistors per PE (LLMCompass)
    pes = 16 * 32 * 32
    expected = pes * fpu16 / 1e6 / 96.3 + 16 * 524288 * 8 * 1.70e-7 / 0.602
    assert area.mm2 == pytest.approx(expected)
    assert area.unknown == ()


def test_declared_areas_sum_over_components_and_copies():
    data = machine_data("nvidia_a100_80gb")
    area = machine_area(data)
    assert area.mm2 == 826 and area.components[0].node_nm == 7
    two = copy.deepcopy(data)
    two["components"]["gpu"]["count"] = 2
    two["components"]["npu"] = dict(machine_data("npu_4x4_mesh")["components"]["npu"],
                                    area={"mm2": 100, "node_nm": 5, "source": "test"})
    rolled = machine_area(two)
    assert rolled.mm2 == 2 * 826 + 100
    assert rolled.cost_usd == pytest.approx(2 * (die_cost_usd(826, 7) + HBM_80GB_USD) + die_cost_usd(100, 5))


def test_die_cost_closed_form():
    # 100 mm^2 at 7 nm: 300 mm wafer, D0 = 0.0015 /mm^2, alpha 3, wafer 9346 USD (ttm-cas)
    dies = math.pi * 150**2 / 100 - math.pi * 300 / math.sqrt(200)
    good = dies * (1 + 100 * 0.0015 / 3) ** -3
    assert die_cost_usd(100, 7) == pytest.approx(9346 / good)
    assert die_cost_usd(826, 7) > 8.26 * die_cost_usd(100, 7)     # yield falls with area


def test_unknown_area_is_listed_and_refused():
    area = machine_area(machine_data("pim_gpt"))
    assert area.unknown == ("pim",) and [c.name for c in area.components] == ["asic"]
    with pytest.raises(AreaUnknown, match=r"^the area sum needs the area of machine 'pim-gpt', but components "
                                          r"pim have area: unknown"):
        area.mm2


def test_vector_unit_rule_closed_form():
    # PIM-GPT's ASIC: 128 lanes, one fp16 FPU each (LLMCompass), at 28 nm (15.3 MTr/mm^2)
    asic = machine_area(machine_data("pim_gpt")).components[0]
    assert asic.node_nm == 28 and asic.mm2 == pytest.approx(128 * 685_300 * (10 / 52) ** 2 / 1e6 / 15.3)


@pytest.mark.parametrize("block, message", [
    ({"mm2": 10, "node_nm": 7}, "a declared mm2 needs its source"),
    ({"mm2": 10, "node_nm": 3, "source": "x"}, "node_nm 3: no wafer price or defect density"),
    ({"node_nm": 7, "mm": 3}, "did you mean 'mm2'"),
    ({"mm2": 3, "source": "a datasheet"}, "node_nm is needed"),
    ({"figure": "cent_pmn", "node_nm": 7}, "no area figure 'cent_pmn' (did you mean 'cent_pnm'?)"),
    ({"figure": "cent_pnm", "mm2": 1, "node_nm": 7}, "mm2 (with its source) or a figure, not both"),
    ({"figure": "cent_pnm", "node_nm": 7, "source": "x"}, "remove source:"),
    ({"mm2": 1, "node_nm": 7, "source": "a datasheet", "times": 2}, "times: counts a figure's units"),
])
def test_bad_area_blocks_name_their_line(block, message):
    data = machine_data("pim_gpt")
    data["components"]["asic"]["area"] = block
    with pytest.raises(ConfigError, match="components.asic.area") as info:
        machine_from_dict(data)
    assert message in str(info.value)


@pytest.mark.parametrize("lanes", [None, "many"])
def test_an_area_rule_never_reads_a_parameter_the_component_refused(lanes):
    """Found by fuzzing: the vector_unit rule read `lanes` raw, so a missing or textual value was a traceback."""
    data = machine_data("pim_gpt")
    asic = data["components"]["asic"]
    asic.pop("lanes") if lanes is None else asic.update(lanes=lanes)
    with pytest.raises(ConfigError, match="components.asic"):
        machine_from_dict(data)


def test_a_type_without_rule_needs_a_published_area():
    data = machine_data("pim_gpt")
    data["components"]["pim"]["area"] = {"node_nm": 28}
    with pytest.raises(ConfigError, match="components.pim.area: no area rule for type 'pim_dram'"):
        machine_from_dict(data)


def test_every_shipped_area_cites_its_source():
    declared = 0
    for path in sorted(ARCHITECTURES_DIR.glob("*.yaml")):
        area = machine_area(load_document(path, search_dirs=[ARCHITECTURES_DIR]).data)
        for component in area.components:
            assert component.source and len(component.source) > 20, (path.name, component.name)
            declared += 1
    assert declared >= 1                      # the A100 (and the machines that extend it)


def test_figure_rollups_equal_hand_sums():
    # A100-LUT-8X: the GA100 die plus 108 SMs x 0.373 mm^2 (28 nm) moved to 7 nm by 15.3 / 96.3 MTr/mm^2
    lut = machine_area(machine_data("lut_tensor_core_a100"))
    tc = 108 * 0.373 * 15.3 / 96.3
    assert lut.unknown == () and lut.mm2 == pytest.approx(826 + tc)
    assert lut.cost_usd == pytest.approx(die_cost_usd(826, 7) + HBM_80GB_USD + die_cost_usd(tc, 7))
    # H100-LUT-4X overrides only the figure: 132 SMs x 0.488 mm^2, left at 28 nm; the H100 die is unknown
    h100 = machine_area(machine_data("lut_tensor_core_h100_4x"))
    assert h100.unknown == ("gpu",)
    assert [(c.name, c.node_nm) for c in h100.components] == [("tc", 28)]
    assert h100.components[0].mm2 == pytest.approx(132 * 0.488)
    cent = machine_area(machine_data("cent_aim"))
    assert cent.unknown == ("pim",) and cent.components[0].mm2 == pytest.approx(20 * 1.02)


def test_area_unknown_overrides_an_inherited_area():
    area = machine_area(machine_data("lut_tensor_core_a100_4x"))     # extends the 8X, whose figure is not its own
    assert area.unknown == ("tc",) and [c.name for c in area.components] == ["gpu"]
    with pytest.raises(AreaUnknown, match="components tc have area: unknown"):
        area.cost_usd


def test_zero_area_adds_no_silicon_and_no_cost():
    data = machine_data("tmac_m2ultra")
    assert machine_area(data).unknown == ("cores",)
    data["components"]["cores"]["area"] = {"mm2": 100, "node_nm": 5, "source": "test"}
    area = machine_area(data)
    assert area.mm2 == 100 and area.cost_usd == pytest.approx(die_cost_usd(100, 5))
    assert [(c.name, c.mm2, c.node_nm, c.cost_usd) for c in area.components][0] == ("cpu", 0, None, 0)


def test_every_area_figure_is_sourced_and_used():
    used = set()
    for path in sorted(ARCHITECTURES_DIR.glob("*.yaml")):
        for raw in load_document(path, search_dirs=[ARCHITECTURES_DIR]).data["components"].values():
            if isinstance(raw.get("area"), dict) and "figure" in raw["area"]:
                used.add(raw["area"]["figure"])
    assert used == set(FIGURES)                                      # no row without a machine that uses it
    for name, row in FIGURES.items():
        assert set(row) == {"mm2", "node_nm", "unit", "source"}, name
        assert row["mm2"] > 0 and row["node_nm"] in NODES and len(row["source"]) > 40, name


def lut_a100_mm2(units: int) -> float:
    """GA100 plus units / 4 SMs of A100-LUT-8X tensor cores (0.373 mm^2 at 28 nm, 15.3 / 96.3 MTr/mm^2 to 7 nm)."""
    return 826 + units / 4 * 0.373 * 15.3 / 96.3


@pytest.mark.parametrize("units", [432, 216])
def test_figure_count_follows_the_components_parameter(units):
    data = machine_data("lut_tensor_core_a100")
    data["components"]["tc"]["units"] = units
    area = machine_area(data)
    tc = units / 4 * 0.373 * 15.3 / 96.3
    assert area.mm2 == pytest.approx(lut_a100_mm2(units))
    assert area.cost_usd == pytest.approx(die_cost_usd(826, 7) + HBM_80GB_USD + die_cost_usd(tc, 7))


@pytest.mark.parametrize("devices", [20, 8])
def test_dies_follow_another_components_parameter(devices):
    # CENT: one 1.02 mm^2 PNM (7 nm) on each device's controller die, each die costed on its own
    data = machine_data("cent_aim")
    data["components"]["pim"]["devices"] = devices
    accel = machine_area(data).components[0]
    assert (accel.name, accel.dies, accel.die_mm2) == ("accel", devices, 1.02)
    assert accel.mm2 == pytest.approx(devices * 1.02)
    assert accel.cost_usd == pytest.approx(devices * die_cost_usd(1.02, 7))


@pytest.mark.parametrize("field, value, message", [
    ("times", "unit / 4", "unknown parameter 'unit' (did you mean 'units'?)"),
    ("times", "units - 432", "times: 'units - 432' gives 0, not a positive number"),
    ("dies", "units / 5", "dies: 'units / 5' gives 86.4, not a whole number of dies"),
    ("times", "gpu.memory.capacity", "unknown parameter 'gpu.memory.capacity'"),   # a quantity string, not a number
    ("times", "units / (units - 432)", "times: 'units / (units - 432)' cannot be evaluated (division by zero)"),
])
def test_bad_counts_name_their_line(field, value, message):
    data = machine_data("lut_tensor_core_a100")
    data["components"]["tc"]["area"][field] = value
    with pytest.raises(ConfigError, match="components.tc.area") as info:
        machine_from_dict(data)
    assert message in str(info.value)


def test_a_search_over_a_count_gets_each_designs_area(tmp_path):
    search_file = tmp_path / "lut_units.yaml"
    search_file.write_text("""\
name: lut-units
machine: lut_tensor_core_a100
workloads:
  - {model: gpt2-small, phase: decode, context: 128}
axes:
  units: {path: machine.components.tc.units, values: [108, 216, 432]}
  bw: {path: machine.components.gpu.memory.bandwidth, values: [1000, 2000], unit: GB/s}
objectives: {tokens_per_s: max, area_mm2: min}
budget: 6
seed: 0
batch: 3
""")
    result = run_search(load_search(search_file), tmp_path / "out", evaluator=EVALUATOR, progress=False)
    areas = {t.params["units"]: t.values[1] for t in result.trials}
    assert sorted(areas) == [108, 216, 432]
    assert all(mm2 == pytest.approx(lut_a100_mm2(units)) for units, mm2 in areas.items())


@pytest.mark.parametrize("capacity, gigabytes", [("80GB", 80), ("40GB", 40)])
def test_memory_is_priced_per_gb_of_the_named_capacity(capacity, gigabytes):
    data = machine_data("nvidia_a100_80gb")
    data["components"]["gpu"]["memory"]["capacity"] = capacity
    area = machine_area(data)
    assert area.mm2 == 826                                          # the stacks' area is not counted
    assert area.cost_usd == pytest.approx(die_cost_usd(826, 7) + gigabytes * 7)
    assert "hbm memory (memory.capacity: " + capacity + ") at 7 USD per 1GB" in area.components[0].source


@pytest.mark.parametrize("memory, message", [
    ({"kind": "hmb", "capacity": "memory.capacity"}, "no memory price for kind 'hmb' (did you mean 'hbm'?)"),
    ({"kind": "hbm", "capacity": "memory.capacty"}, "no parameter 'memory.capacty' (did you mean 'memory.capacity'?)"),
    ({"kind": "hbm", "capacity": "memory.bandwidth"}, "memory.capacity: 'memory.bandwidth' is not a size"),
])
def test_bad_memory_blocks_name_their_line(memory, message):
    data = machine_data("nvidia_a100_80gb")
    data["components"]["gpu"]["area"]["memory"] = memory
    with pytest.raises(ConfigError, match="components.gpu.area") as info:
        machine_from_dict(data)
    assert message in str(info.value)


def test_every_memory_price_is_sourced():
    for kind, row in MEMORY_PRICES.items():
        assert set(row) == {"usd", "per", "source"} and row["usd"] > 0 and len(row["source"]) > 40, kind
        assert parse_quantity(row["per"], "size") > 0, kind


def test_nand_is_priced_as_quoted_per_512_gbit():     # the arithmetic of a price quoted per die, on any machine
    data = machine_data("nvidia_a100_80gb")
    data["components"]["gpu"]["area"]["memory"]["kind"] = "nand_tlc"
    assert machine_area(data).cost_usd == pytest.approx(die_cost_usd(826, 7) + 80 * 8 / 512 * 1.436)
