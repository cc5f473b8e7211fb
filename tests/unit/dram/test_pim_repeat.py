"""A repeated PIM stream timed by extrapolation (pim_repeat.py) equals issuing every repetition:
done cycle, command counts (energy), open-row cycles (standby energy) and refresh phase, to the cycle,
also when refresh detours recorded by earlier runs of the stream are replayed."""

import dataclasses

import numpy as np
import pytest

from hwsim.components.base import build_component
from hwsim.components.dram import load_preset
from hwsim.components.dram.pim_mapping import Layout, ewmul_stream, gemv_stream
from hwsim.components.dram.pim_stream import IllegalCommand, RepeatPlans, simulate_commands, simulate_repeated
from hwsim.components.dram.spec import with_overrides
from hwsim.components.dram.standards import COMMANDS
from hwsim.config.loader import SourceMap
from hwsim.engine import Simulator
from hwsim.machine import load_machine
from hwsim.step import simulate
from hwsim.workload.ops import Op
from hwsim.workload.precision import Precision


def layout(spec, gb_elements=1024, pack_rows=True):
    org = spec.org
    return Layout(org.bursts_per_row, org.burst_bytes // 2, gb_elements, org.banks_per_rank, org.banks_per_group,
                  pack_rows)


def full(spec, stream, times, **kw):
    r = stream.repeat(times)
    return simulate_commands(spec, r.cmd, 0, r.bankgroup, r.bank, r.row, **kw)


def assert_same(spec, stream, times, **kw):
    want = full(spec, stream, times, **kw)
    got = simulate_repeated(spec, stream, times, **kw)
    assert (got.done_cycle, got.open_cycles, got.next_refresh_due) == \
        (want.done_cycle, want.open_cycles, want.next_refresh_due)
    assert got.command_counts == want.command_counts
    return got, want


SHAPES = [(1600, 38), (768, 3), (6400, 13), (100, 1), (3000, 7)]     # (k, neurons per bank)


@pytest.mark.parametrize("preset", ["GDDR6_AiM", "HBM2_PIM", "HBM3_PIM"])
@pytest.mark.parametrize("refresh", [True, False])
@pytest.mark.parametrize("k,neurons", SHAPES)
def test_extrapolated_repetitions_equal_the_full_stream(preset, refresh, k, neurons):
    spec = load_preset(preset)
    stream = gemv_stream(layout(spec), k, neurons)
    times = max(8, 60_000 // len(stream))
    got, want = assert_same(spec, stream, times, refresh=refresh, start_cycle=777, refresh_due=1500)
    assert got.issued_commands < len(stream) * times // 2       # it did extrapolate
    assert want.command_counts["REF"] > 0 or not refresh


@pytest.mark.parametrize("nREFI,nRFC", [(60, 20), (97, 40), (250, 210), (1013, 210)])
def test_dense_refresh_overlapping_its_own_disturbance(nREFI, nRFC):
    """Refreshes closer together than the disturbance of one (several per checkpoint window)."""
    spec = with_overrides(load_preset("GDDR6_AiM"), nREFI=nREFI, nRFC=nRFC)
    assert_same(spec, gemv_stream(layout(spec), 1600, 5), 40, refresh=True)


def test_unpacked_rows_registers_and_ewmul_streams():
    spec = load_preset("GDDR6_AiM")
    assert_same(spec, gemv_stream(layout(spec, pack_rows=False), 900, 6, registers=4), 30, start_cycle=5)
    assert_same(spec, gemv_stream(layout(spec), 4096, 40, segment=128), 12, refresh_due=3)
    assert_same(spec, ewmul_stream(layout(spec), 5000), 50)


# (times, start cycle, refresh due): odd counts, refresh due before the start, phases off the period
RUNS = [(301, 7, 13), (257, 1001, 2999), (333, 5, 1), (997, 123457, 124000)]


@pytest.mark.parametrize("preset", ["GDDR6_AiM", "HBM2_PIM", "HBM3_PIM"])
@pytest.mark.parametrize("k,neurons", [(768, 3), (1600, 5), (2048, 2), (100, 1)])
def test_detours_shared_by_runs_equal_the_full_stream(preset, k, neurons):
    """Runs sharing one plan across hundreds of refreshes at many phases: later runs replay the
    refresh detours earlier ones recorded and still equal the full stream."""
    spec = load_preset(preset)
    stream = gemv_stream(layout(spec), k, neurons)
    plans = RepeatPlans(spec)
    issued, refreshes = [], []
    for times, t0, due in RUNS:
        want = full(spec, stream, times, start_cycle=t0, refresh_due=due)
        got = simulate_repeated(spec, stream, times, start_cycle=t0, refresh_due=due, plans=plans)
        assert (got.done_cycle, got.open_cycles, got.next_refresh_due, got.command_counts) == \
            (want.done_cycle, want.open_cycles, want.next_refresh_due, want.command_counts)
        issued.append(got.issued_commands)
        refreshes.append(want.command_counts["REF"])
    assert sum(refreshes) > 30
    assert sum(issued[1:]) < 10 * sum(refreshes[1:])      # commands issued per refresh once detours are known


@pytest.mark.parametrize("k,neurons,nREFI,nRFC", [(1600, 5, 60, 20), (1600, 5, 250, 210), (1600, 5, 1013, 210),
                                                   (1600, 5, 3331, 400), (507, 6, 197, 52)])
def test_detours_under_dense_refresh(k, neurons, nREFI, nRFC):
    """A detour is replayed only while the next refresh is not due before its last command (the
    last case replays wrongly without that check)."""
    spec = with_overrides(load_preset("GDDR6_AiM"), nREFI=nREFI, nRFC=nRFC)
    stream = gemv_stream(layout(spec), k, neurons)
    plans = RepeatPlans(spec)
    for times, t0, due in RUNS:
        want = full(spec, stream, times // 3, start_cycle=t0, refresh_due=due)
        got = simulate_repeated(spec, stream, times // 3, start_cycle=t0, refresh_due=due, plans=plans)
        assert (got.done_cycle, got.open_cycles, got.next_refresh_due, got.command_counts) == \
            (want.done_cycle, want.open_cycles, want.next_refresh_due, want.command_counts)


@pytest.mark.parametrize("k,neurons", [(768, 3), (100, 1)])
def test_runs_ending_inside_a_known_detour(k, neurons):
    """Every length of run from 4 to 199 repetitions with one plan: some runs end between a detour's
    refresh and its return to the reference, where the detour must not be replayed."""
    spec = load_preset("GDDR6_AiM")
    stream = gemv_stream(layout(spec), k, neurons)
    plans = RepeatPlans(spec)
    for times in range(4, 200, 3):
        want = full(spec, stream, times, start_cycle=7 * times, refresh_due=11 * times)
        got = simulate_repeated(spec, stream, times, start_cycle=7 * times, refresh_due=11 * times, plans=plans)
        assert (got.done_cycle, got.open_cycles, got.next_refresh_due, got.command_counts) == \
            (want.done_cycle, want.open_cycles, want.next_refresh_due, want.command_counts)


@pytest.mark.parametrize("refresh", [True, False])
def test_a_run_at_a_known_refresh_phase_is_the_remembered_one_shifted(refresh):
    """A run of a stream and times already run at the same refresh phase (due minus start) is
    answered from the plans' results, shifted to its start, issuing no command: still the full
    stream. Without refresh every start shares one result; with it another phase is simulated."""
    spec = load_preset("GDDR6_AiM")
    stream = gemv_stream(layout(spec), 1600, 5)
    plans = RepeatPlans(spec)
    for t0, phase, remembered in [(7, 1234, False), (50_001, 1234, True), (123_457, 1234, True),
                                  (9, 1235, not refresh)]:
        want = full(spec, stream, 300, refresh=refresh, start_cycle=t0, refresh_due=t0 + phase)
        got = simulate_repeated(spec, stream, 300, refresh=refresh, start_cycle=t0, refresh_due=t0 + phase,
                                plans=plans)
        assert (got.done_cycle, got.open_cycles, got.next_refresh_due, got.command_counts) == \
            (want.done_cycle, want.open_cycles, want.next_refresh_due, want.command_counts)
        assert want.command_counts["REF"] > 10 or not refresh
        assert (got.issued_commands == 0) == remembered
    assert (plans.hits, plans.misses) == ((2, 2) if refresh else (3, 1))


def test_plans_belong_to_one_spec():
    spec = load_preset("GDDR6_AiM")
    with pytest.raises(ValueError, match="plans"):
        simulate_repeated(spec, gemv_stream(layout(spec), 256, 2), 8, plans=RepeatPlans(load_preset("HBM2_PIM")))


@pytest.mark.parametrize("times", [1, 2, 3])
def test_few_repetitions(times):
    spec = load_preset("HBM3_PIM")
    assert_same(spec, gemv_stream(layout(spec), 1024, 4), times, refresh_due=10)


def test_illegal_stream_is_reported():
    spec = load_preset("GDDR6_AiM")
    stream = gemv_stream(layout(spec), 256, 2)
    keep = np.arange(len(stream)) != np.flatnonzero(stream.cmd == COMMANDS.index("ACT_ABK"))[0]
    broken = dataclasses.replace(stream, cmd=stream.cmd[keep], row=stream.row[keep], bankgroup=stream.bankgroup[keep],
                                 bank=stream.bank[keep])       # MAC_ABK before the first ACT_ABK
    with pytest.raises(IllegalCommand, match="closed"):
        simulate_repeated(spec, broken, 10)


def test_device_matmul_with_many_rows_times_and_energy_as_the_full_stream():
    """pim_dram extrapolates a prefill matmul (m rows, each a GEMV): the op's end and energy are those
    of the busiest channel issuing the GEMV m times back to back."""
    params = {"type": "pim_dram", "source": "test", "preset": "GDDR6_AiM", "channels": 8,
              "reduction": {"clock": "1GHz", "lanes": 128}}
    sim = Simulator()
    pim = build_component("pim", params, SourceMap("<test>"), ("pim",), sim)
    op = Op(0, "fc", "matmul", 0, 2.0 * 64 * 1024 * 768, "bf16", weight_bytes=2.0 * 1024 * 768, m=64, n=1024, k=768)
    out = []
    pim.submit(op, lambda o, e: out.append(e))
    sim.run()
    want = full(pim.spec, gemv_stream(pim._layout("bf16"), 768, 1024 // 8 // 16), 64, start_cycle=0)
    assert out[0].end_ps == want.done_cycle * pim.spec.tCK_ps
    counts = [want.command_counts[c] * 8 for c in want.command_counts]
    assert pim.statistics()["commands"] == sum(counts)
    parts = pim._op_energy_parts(np.array(counts), want.open_cycles * pim.spec.tCK_ps * 8, 0)
    assert out[0].energy_j == pytest.approx(sum(parts.values()), rel=1e-12)
    assert pim.statistics()["simulated_commands"] < sum(want.command_counts.values())


def test_prefill_report_equals_issuing_every_command(monkeypatch):
    """A whole GPT-2 prefill on PIM-GPT: the Report (latency, energy, every op, every command count,
    row-hit rate) is the one of issuing every repetition of every stream."""
    bf16 = Precision("bf16", "bf16", "bf16")
    machine = load_machine("pim_gpt")
    fast = simulate(machine, "gpt2-small", phase="prefill", batch=1, context=24, precision=bf16)
    monkeypatch.setattr("hwsim.components.dram.pim_device.REPEAT_DIRECTLY_BELOW", 1 << 62)
    direct = simulate(machine, "gpt2-small", phase="prefill", batch=1, context=24, precision=bf16)
    simulated = [r.components["pim"].pop("simulated_commands") for r in (fast, direct)]
    assert fast == direct
    assert fast.components["pim"]["cmd_REF"] > 100
    assert simulated[0] < simulated[1] / 5


@pytest.mark.parametrize("k,neurons,times", [(1024, 8, 2000), (8192, 2, 300)])
def test_long_runs_jumping_over_cycles_of_detours_equal_the_full_stream(k, neurons, times):
    """Runs of a prefill GEMV meet hundreds of refreshes: once the replayed detours come back to a
    state seen before, whole cycles are skipped (pim_repeat.py stage 4), still to the cycle."""
    spec = load_preset("GDDR6_AiM")
    stream = gemv_stream(layout(spec), k, neurons, registers=32)
    plans = RepeatPlans(spec)
    for run, (t0, due) in enumerate([(5, 100), (70, 1500), (123457, 120000)]):
        want = full(spec, stream, times + run, start_cycle=t0, refresh_due=due)
        got = simulate_repeated(spec, stream, times + run, start_cycle=t0, refresh_due=due, plans=plans)
        assert (got.done_cycle, got.open_cycles, got.next_refresh_due, got.command_counts) == \
            (want.done_cycle, want.open_cycles, want.next_refresh_due, want.command_counts)
        assert want.command_counts["REF"] > 100
