"""The operators group: the shipped Vidur table parses, its ops are built and split like hwsim's
tensor-parallel mapping, and the group yields a median and a p90 row per operator and machine."""
from hwsim.validate import vidur
from hwsim.validate.checks import operators


def test_table_parses_and_names_its_source():
    header = vidur.TABLE.read_text().splitlines()[0]
    assert "github.com/microsoft/vidur commit" in header and "mlp.csv" in header
    table = vidur.load()
    assert {m.gpu for m in table} == set(operators.MACHINES)
    assert all(set(m.seconds) == set(vidur.OPERATORS.values()) for m in table)
    assert all(t > 0 for m in table for t in m.seconds.values())


def test_block_ops_split_for_one_tensor_parallel_rank():
    whole, rank = operators.block_ops("llama2-7b", 64, 1), operators.block_ops("llama2-7b", 64, 4)
    assert whole["qkv"].n == 3 * 4096 and rank["qkv"].n == 3 * 4096 // 4       # column parallel
    assert rank["ffn.down"].k == 11008 // 4 and rank["ffn.down"].n == 4096       # row parallel
    assert rank["attn_norm"] == whole["attn_norm"] and rank["ffn.act"].flops == whole["ffn.act"].flops / 4
    assert whole["ffn.up"].m == 64 and whole["ffn.up"].compute_dtype == "fp16"


def test_group_rows_per_operator_and_machine():
    rows = operators.operators({}, limit=97)
    machines = {machine for gpu_machines in operators.MACHINES.values() for machine in gpu_machines}
    assert len(rows) == 2 * len(vidur.OPERATORS) * len(machines)
    assert all(row.simulated >= 0 and row.passed == (row.simulated <= row.published) for row in rows)


def test_parity_plot_writes_a_png(tmp_path):
    pairs = operators.comparisons(gpus=["a40"], limit=50)
    operators.parity_plot(tmp_path / "parity.png", pairs)
    assert (tmp_path / "parity.png").read_bytes()[:4] == b"\x89PNG"
