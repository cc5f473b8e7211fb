"""Serving plots are written as PNG files."""
from hwsim.serving.plots import kv_and_batch, latency_cdfs
from hwsim.serving.serve import serve


def test_latency_cdfs_and_kv_over_time_are_written(formula, tmp_path):
    report = serve(cost=formula(), n=20, rate=5.0, prompt="uniform:10:50", output="uniform:2:20", kv_tokens=2_000)
    paths = latency_cdfs({"a": report, "b": report}, tmp_path / "cdf.png"), kv_and_batch(report, tmp_path / "kv.png")
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
