"""Runs that do not fit fail with one line naming the memory, its needs, what it has and what would
fit; --allow-overcommit runs them and flags the report; the KV budget the serving layer sizes with."""
import json
from pathlib import Path

import pytest
import yaml

from hwsim.capacity import CapacityError, kv_capacity_tokens
from hwsim.cli import main
from hwsim.machine import ARCHITECTURES_DIR, load_machine, machine_from_dict
from hwsim.step import simulate
from hwsim.workload.model import load_model

GiB = 2 ** 30


def test_llama2_70b_does_not_fit_a_t4(capsys):
    assert main(["run", "nvidia_t4", "llama2-70b", "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    # 68,976,648,192 parameters x 2 B = 128.5 GiB; KV 2 x 80 layers x 8 x 128 x 2 B x 2049 = 640 MiB
    assert ("llama2-70b does not fit nvidia-t4: gpu.memory needs 129 GiB (weights 128 GiB fp16, "
            "KV 640 MiB at batch 1 x 2049 tokens") in err
    assert "and has 16 GiB; would fit: at least 9 such memories" in err


def test_a_1MB_memory_does_not_hold_llama2_7b():
    data = yaml.safe_load(Path(ARCHITECTURES_DIR, "nvidia_a100_80gb.yaml").read_text())
    data["components"]["gpu"]["memory"]["capacity"] = "1MB"
    with pytest.raises(CapacityError, match=r"gpu.memory needs 13.6 GiB .* and has 1 MiB"):
        simulate(machine_from_dict(data), "llama2-7b")


def test_a_million_sequences_do_not_fit_and_the_batch_that_would_is_computed():
    with pytest.raises(CapacityError) as error:
        simulate("nvidia_a100_80gb", "llama3-8b", batch=10 ** 6)
    # weights 8,030,261,248 x 2 B; per sequence: KV 2 x 32 layers x 8 x 128 x 2 B x 2049 tokens plus the
    # largest operator's activations per sequence (the softmax: 2 x 32 heads x 2049 x 2 B)
    free = 80 * GiB - 8_030_261_248 * 2
    per_sequence = 2 * 32 * 8 * 128 * 2 * 2049 + 2 * 32 * 2049 * 2
    assert f"batch <= {free // per_sequence}" in str(error.value)


def test_allow_overcommit_runs_and_flags_the_report(tmp_path, capsys):
    assert main(["run", "nvidia_t4", "llama2-70b", "--allow-overcommit", "--no-plots", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "OVERCOMMITTED  llama2-70b does not fit nvidia-t4" in out
    assert "gpu.memory" in out and "of 16 GiB" in out
    memory = json.loads((tmp_path / "report.json").read_text())["memory"]
    assert memory["overcommitted"] is True and memory["fits"] is False
    (gpu,) = memory["memories"]
    assert gpu["capacity"] == 16 * GiB and gpu["weights"] == 68_976_648_192 * 2


def test_report_carries_the_footprint_when_it_fits():
    report = simulate("nvidia_a100_80gb", "llama2-7b", context=128)
    memory = report.to_dict()["memory"]
    assert memory["fits"] and not memory["overcommitted"]
    assert memory["memories"][0]["kv"] == 2 * 32 * 32 * 128 * 2 * 129
    assert "gpu.memory" in report.summary() and "of 80 GiB" in report.summary()


def test_kv_capacity_tokens_is_what_is_left_beside_the_weights():
    machine, model = load_machine("nvidia_a100_80gb"), load_model("llama2-7b")
    # one token's step: the LM head's input 4096 x 2 B and logits 32000 x 2 B are the largest activations
    free = 80 * GiB - 6_738_415_616 * 2 - (4096 + 32000) * 2
    assert kv_capacity_tokens(machine, model) == free // (2 * 32 * 32 * 128 * 2)
    assert kv_capacity_tokens(load_machine("nvidia_t4"), load_model("llama2-70b")) == 0
    assert kv_capacity_tokens(load_machine("xeon_gold_6154"), model) is None      # no capacity modeled


def test_kv_capacity_tokens_of_a_data_parallel_machine_counts_every_replica():
    tokens = kv_capacity_tokens(load_machine("h100_8gpu_nvlink"), load_model("deepseek-v2-lite"))
    # MLA: 512 + 64 latent elements x 27 layers x 2 B per token; each of the 8 GPUs keeps under 7 GiB of
    # weights (the dense part and its 8 of the 64 experts per layer), the rest of its 80 GiB is KV
    per_token = (512 + 64) * 27 * 2
    assert 8 * 73 * GiB // per_token < tokens < 8 * 80 * GiB // per_token


def test_a_replayed_trace_is_checked_from_what_it_reads(tmp_path):
    from hwsim.step import run_trace
    from hwsim.workload.tracefile import Trace
    from hwsim.workload.trace import generate_trace

    path = tmp_path / "step.json"
    generate_trace(load_model("llama2-70b"), "decode", 1, 128).save(path)
    with pytest.raises(CapacityError, match="llama2-70b does not fit nvidia-t4: gpu.memory needs"):
        run_trace(load_machine("nvidia_t4"), Trace.load(path))
    report = run_trace(load_machine("nvidia_h100_sxm"), Trace.load(path), allow_overcommit=True)
    (gpu,) = report.footprint.usages
    # no model: the weights the operators read (the embedding's one gathered row, not its table)
    counts_without_table = 68_976_648_192 - 32000 * 8192 + 8192
    assert gpu.weights == counts_without_table * 2 and report.overcommitted
    assert gpu.kv == 2 * 80 * 8 * 128 * 2 * 129
    assert "replayed trace: weights as read, a lower bound" in report.summary()


def test_several_decode_steps_are_checked_at_their_last_step():
    report = simulate("edge_moe_flash", "olmoe-1b-7b", steps=3, context=64)
    soc = next(u for u in report.footprint.usages if u.memory == "soc.memory")
    # 16 layers x 16 kv heads x 128 x K and V x 2 B, for the last step's 64 + 2 cached + 1 new tokens
    assert soc.kv == 2 * 16 * 16 * 128 * 2 * 67
    assert report.steps == 3 and report.to_dict()["memory"]["kv_tokens_per_sequence"] == 67


def test_the_python_api_allows_overcommit_too():
    import hwsim

    report = hwsim.simulate("nvidia_t4", "llama2-13b", context=128, allow_overcommit=True)
    assert report.overcommitted and report.to_dict()["memory"]["overcommitted"]
    assert "OVERCOMMITTED  llama2-13b does not fit nvidia-t4" in report.summary()
