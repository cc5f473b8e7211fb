"""`hwsim run` shows the footprint table and writes it to report.json: a dense model, an MoE model
with its experts offloaded, and a tensor-parallel machine (numbers as in test_footprint.py)."""
import json

from hwsim.cli import main

GiB = 2 ** 30


def run(tmp_path, capsys, *args):
    assert main(["run", *args, "--no-plots", "--out", str(tmp_path)]) == 0
    memory = json.loads((tmp_path / "report.json").read_text())["memory"]
    return capsys.readouterr().out, {m["memory"]: m for m in memory["memories"]}, memory


def test_dense_model_summary_and_report(tmp_path, capsys):
    out, memories, memory = run(tmp_path, capsys, "nvidia_a100_80gb", "llama2-7b")
    assert "gpu.memory                     13.6 GiB of 80 GiB (17%): weights 12.6 GiB fp16, KV 1 GiB" in out
    gpu = memories["gpu.memory"]
    assert gpu["weights"] == 6_738_415_616 * 2 and gpu["kv"] == 2 * 32 * 32 * 128 * 2 * 2049
    assert memory["fits"] and not memory["overcommitted"]


def test_moe_with_offloaded_experts_summary_and_report(tmp_path, capsys):
    out, memories, _ = run(tmp_path, capsys, "edge_moe_flash", "mixtral-8x7b", "--weights", "int4",
                           "--context", "256")
    assert "soc.backing" in out and "(capacity not modeled): experts 21 GiB int4" in out
    assert "expert cache 10 GiB" in out
    assert memories["soc.backing"]["experts"] == 32 * 8 * 3 * 4096 * 14336 // 2
    assert memories["soc.memory"]["reserved"] == 10 * GiB
    assert memories["soc.memory"]["kv"] == 2 * 32 * 8 * 128 * 2 * 257


def test_tensor_parallel_machine_summary_and_report(tmp_path, capsys):
    machine = tmp_path / "tp2.yaml"
    machine.write_text("extends: h100_8gpu_nvlink\nname: h100-tp2\ndescription: 2 x H100, TP 2\nsource: test\n"
                       "components: {gpu: {count: 2}, nvlink: {ranks: 2}}\nparallelism: {tp: 2, dp: 1, ep: 1}\n")
    out, memories, _ = run(tmp_path / "out", capsys, str(machine), "llama2-70b", "--batch", "8", "--context", "4095")
    assert "gpu[0].memory (fullest of 2)   69.5 GiB of 80 GiB (87%): weights 64.5 GiB fp16, KV 5 GiB" in out
    # matrices / 2 (LM head included), token table and 161 norms of 8192 whole, x 2 B
    total, table, norms = 68_976_648_192, 32000 * 8192, 161 * 8192
    per_rank = (total - table - norms) // 2 + table + norms
    for rank in (0, 1):
        assert memories[f"gpu[{rank}].memory"]["weights"] == 2 * per_rank
        assert memories[f"gpu[{rank}].memory"]["kv"] == 2 * 80 * 4 * 128 * 2 * 8 * 4096   # 4 of 8 kv heads
