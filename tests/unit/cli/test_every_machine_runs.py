"""Every shipped machine runs as the bare `hwsim run MACHINE`: the machine's `defaults:` (else
hwsim.defaults) pick a workload it can run, the run exits 0 and its report is above its roofline floor.
The API takes the same defaults. Machines whose default run takes long are marked slow."""
import json

import pytest

import hwsim
from hwsim import defaults
from hwsim.cli import fill_workload, main, parser
from hwsim.machine import load_machine, shipped_machines

# default runs of tens of seconds (large MoE over many devices, command-level PIM, per-core CPU models)
SLOW = {"cambricon_llm_l", "cent_aim", "cent_aim_pp40", "cloudmatrix384_decode", "cloudmatrix384_ep320",
        "cloudmatrix384_slice32", "h100_cluster_2x8", "neoverse_n1"}


def test_slow_machines_are_shipped_and_most_run_by_default():
    assert SLOW < set(shipped_machines()) and len(SLOW) < len(shipped_machines()) / 2


@pytest.mark.parametrize("machine", [pytest.param(m, marks=pytest.mark.slow) if m in SLOW else m
                                     for m in shipped_machines()])
def test_bare_run_of_every_shipped_machine(machine, tmp_path, capsys):
    assert main(["run", machine, "--out", str(tmp_path), "--no-plots"]) == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "report.json").read_text())
    floor = max(resource["floor_s"] for resource in report["resources"])
    assert report["tokens_per_s"] > 0 and report["latency_s"] * (1 + 1e-9) >= floor == report["roofline_floor_s"]
    expected = load_machine(machine).workload()
    assert (report["phase"], report["batch"], report["context"]) == expected[1:]


def test_a_machine_default_is_what_the_command_line_and_the_api_run():
    args = fill_workload(parser().parse_args(["run", "tellme_kv260"]))
    assert (args.model, args.phase, args.batch, args.context) == ("bitnet-b1.58-0.7b", "decode", 1, 64)
    report = hwsim.simulate("tellme_kv260")
    assert (report.model, report.phase, report.batch, report.context) == ("bitnet-b1.58-0.7b", "decode", 1, 64)
    assert report.precision == "W:ternary A:int8 KV:fp16"      # the machine's precision:


def test_what_the_user_gives_wins_over_the_machine_and_the_machine_over_hwsim_defaults():
    args = fill_workload(parser().parse_args(["run", "tellme_kv260", "--context", "128", "--phase", "prefill"]))
    assert (args.model, args.phase, args.batch, args.context) == ("bitnet-b1.58-0.7b", "prefill", 1, 128)
    args = fill_workload(parser().parse_args(["run", "h100_8gpu_nvlink", "mixtral-8x7b"]))
    assert (args.model, args.batch, args.context) == ("mixtral-8x7b", 64, 4096)
    args = fill_workload(parser().parse_args(["run", "nvidia_a100_80gb"]))      # no defaults: block
    assert (args.model, args.phase, args.batch, args.context) == (
        defaults.MODEL, defaults.PHASE, defaults.BATCH, defaults.CONTEXT)


def test_run_help_states_the_effective_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for fallback in (defaults.MODEL, defaults.PHASE, defaults.BATCH, defaults.CONTEXT):
        assert f"(default: the machine's defaults:, else {fallback})" in text


def test_a_bad_defaults_block_names_its_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nextends: nvidia_a100_80gb\ndefaults: {model: lama2-7b, batch: 0, phse: decode}\n")
    assert main(["run", str(bad), "--no-plots", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:3: defaults.model: no shipped model 'lama2-7b' (did you mean 'llama2-7b'?)" in err
    assert "defaults.batch: must be a positive integer" in err and "did you mean 'phase'?" in err
