"""The operators group: the shipped Vidur table parses, its ops are built and split like hwsim's
tensor-parallel mapping, and the group yields a median and a p90 row per operator and machine."""
import pytest

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


def test_collectives_table_and_group():
    from hwsim.validate.checks import collectives
    table = vidur.load_collectives()
    assert {(c.system, c.collective) for c in table} == {(s, k) for s in collectives.MACHINES
                                                         for k in ("all_reduce", "send_recv")}
    assert all(2048 <= c.nbytes <= 2**26 and c.seconds > 0 for c in table)
    rows = collectives.collectives({})
    # 3 all-reduce group sizes + send/recv on 2 systems, then one row per nccl-tests point
    assert len(rows) == 8 + 2 and all(row.info for row in rows)


def test_nccl_tests_points_lie_beyond_vidurs_range_and_name_their_sources():
    from hwsim.validate.checks import collectives
    header = "\n".join(line for line in collectives.NCCL_TESTS.read_text().splitlines() if line.startswith("#"))
    assert "oracle-japan/ocitutorials" in header and "li-plus/playground" in header
    points = vidur.load_collectives(collectives.NCCL_TESTS)
    assert len(points) == 2 and all(p.nbytes > 2**26 and p.system in collectives.MACHINES for p in points)


def test_a_send_of_a_large_buffer_moves_at_the_sustained_link_rate():
    from hwsim.validate.checks import collectives
    fabric = collectives.fabric_entry("h100_8gpu_nvlink")
    seconds = collectives.collective_seconds(fabric, "send_recv", 2, 2**26)
    # NCCL's Simple protocol: 8.4 us base + one 3.4 us step, one serialisation at the sustained rate
    assert seconds == pytest.approx(2**26 / 378e9 + 8.4e-6 + 3.4e-6, rel=1e-6)


def test_datasheet_variant_drops_only_the_device_mechanisms():
    from hwsim.machine import load_machine
    data = load_machine("nvidia_a100_80gb").spec.model_dump(mode="json", exclude_none=True)
    data["mapping"]["gemm"] = "gpu"                       # an op-class mapping key of the same name stays
    gpu = operators.without_mechanisms(data)["components"]["gpu"]
    assert "gemm" not in gpu and "rows" not in gpu and "kernel_startup" not in gpu
    assert "efficiency" not in gpu["memory"] and gpu["memory"]["bandwidth"]
    assert operators.without_mechanisms(data)["mapping"]["gemm"] == "gpu"
    qkv = operators.block_ops("llama2-7b", 1, 1)["qkv"]
    assert operators.op_seconds("nvidia_a100_80gb", qkv, datasheet=True) == \
        pytest.approx(qkv.total_bytes / 2039e9, rel=1e-9)         # the plain roofline: a GEMV at peak HBM


def test_gpu_report_has_a_row_per_machine_and_operator_with_the_kernel_startup_only_after():
    from hwsim.validate import gpu_report
    lines = gpu_report.operator_table().splitlines()
    machines = {machine for gpu_machines in operators.MACHINES.values() for machine in gpu_machines}
    assert len(lines) == 2 + len(machines) * len(vidur.OPERATORS)
    add = operators.block_ops("llama2-7b", 1, 1)["ffn_residual"]
    assert operators.op_seconds("nvidia_a100_80gb", add) == pytest.approx(
        405e-9 + 1.3e-6, rel=1e-9)      # 4,096 outputs: 8 blocks of 512, one wave, one round trip + startup
    assert operators.op_seconds("nvidia_a100_80gb", add, datasheet=True) == pytest.approx(
        add.total_bytes / 2039e9, rel=1e-9)



@pytest.mark.parametrize("machine, latency, l2, clock, startup", [
    ("nvidia_a100_80gb", 405e-9, 150e-9, 1.41e9, 1.3e-6),     # its own pointer chase and startup
    ("nvidia_a40", 254e-9, 159e-9, 1.74e9, 1.1e-6),           # the L40's pointer chase [I], its own startup
    ("nvidia_h100_sxm", 375e-9, 134e-9, 1.98e9, 1.27e-6),     # the H100 PCIe's chase [I], the H200's startup [I]
    ("nvidia_h100_pcie", 375e-9, 151e-9, 1.755e9, 0.0),       # its own pointer chase, no startup measured
])
def test_norm_at_one_token_waits_on_its_round_trips_then_its_instructions(machine, latency, l2, clock, startup):
    # rms_norm over llama2-7b's 4,096-wide row: one block of 1,024 threads (32 warps), 4 iterations per
    # pass; the sum of squares waits on DRAM and issues 9 instructions per warp, the scaling loop waits
    # on an L2 hit and issues 19, four warp instructions per cycle
    norm = operators.block_ops("llama2-7b", 1, 1)["attn_norm"]
    loop = latency + l2 + 32 * (9 + 19) / (4 * clock)
    assert operators.op_seconds(machine, norm) == pytest.approx(4 * loop + startup, rel=1e-6)   # whole ps


@pytest.mark.parametrize("machine, rows_per_sm, low, high, startup", [
    # A40: 1,536 resident threads hold one 1,024-thread block per SM
    ("nvidia_a40", 1, (3584, 493e9), (4096, 552e9), 1.1e-6),
    # H100 PCIe: 2,048 threads hold two
    ("nvidia_h100_pcie", 2, (4096, 702e9), (8192, 1261e9), 0.0),
])
def test_rows_in_waves_stream_at_the_gpus_read_curve(machine, rows_per_sm, low, high, startup):
    # 4,096 tokens of silu_and_mul over 11,008 x 2 inputs: a row's 11,008 elements take 11 iterations of
    # 1,024 threads, so 11,008 / 11 threads busy, each with 2 fp16 loads in flight; the bytes move at the
    # gpu-stream read curve's bandwidth for that many bytes per SM, between its two points around it
    act = operators.block_ops("llama2-7b", 4096, 1)["ffn.act"]
    per_sm = rows_per_sm * 11008 / 11 * 2 * 2
    bandwidth = low[1] + (per_sm - low[0]) / (high[0] - low[0]) * (high[1] - low[1])
    assert operators.op_seconds(machine, act) == pytest.approx(act.total_bytes / bandwidth + startup, rel=1e-9)
