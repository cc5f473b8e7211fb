"""analytic_device `computes_in`: every operator runs at that format's peak whatever the run's formats
(mllm-NPU's CPU computing a quantised model's attention in float), a roofline max(FLOPs / peak, bytes / bandwidth)."""
import pytest

from hwsim.components.analytic.device import AnalyticDevice
from hwsim.engine import Simulator
from hwsim.workload.ops import Op

PARAMS = {"source": "test", "peak": {"fp32": "100GFLOPS", "int8": "1TOPS"}, "memory": {"capacity": "1GB", "bandwidth": "10GB/s"}}


def _device(**extra):
    return AnalyticDevice("cpu", AnalyticDevice.Params(**PARAMS, **extra), Simulator())


def _score(flops, nbytes):
    return Op(id=0, name="attn.score", kind="attn_score", layer=0, compute_dtype="int8", flops=flops,
              kv_read_bytes=nbytes)


@pytest.mark.parametrize("flops,nbytes", [(4e9, 1e6), (1e6, 4e8)])
def test_int8_operator_runs_at_the_float_peak(flops, nbytes):
    timing = _device(computes_in="fp32").time(_score(flops, nbytes))
    assert timing.duration_s == pytest.approx(max(flops / 100e9, nbytes / 10e9))


def test_without_it_the_operator_format_picks_the_peak():
    assert _device().time(_score(4e9, 1e6)).duration_s == pytest.approx(4e9 / 1e12)


def test_unknown_format_is_one_line_error():
    with pytest.raises(ValueError, match="fp33"):
        _device(computes_in="fp33")
