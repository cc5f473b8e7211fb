"""analytic_device `launch: async`: the host issues kernels into the stream ahead of the GPU, so a
step lasts as long as the slower of the two streams (closed forms for chains of kernels)."""
import pytest

from hwsim.components.base import run_alone
from hwsim.config.errors import ConfigError
from hwsim.workload.ops import Op

D = 1e-6          # one elementwise kernel: 1 MB at 1 TB/s


def _gpu(**extra):
    return {"type": "analytic_device", "source": "test", "peak": {"fp16": "100TFLOPS"},
            "memory": {"capacity": "1TB", "bandwidth": "1TB/s"}, **extra}


def _add(i):
    return Op(i, f"add{i}", "elementwise", 0, 0, "fp16", act_in_bytes=0.5e6, act_out_bytes=0.5e6)


def _chain(n, **extra):
    """(seconds until the last of n equal kernels ends, the device) on one stream."""
    runs, device = run_alone("gpu", _gpu(**extra), [_add(i) for i in range(n)])
    return max(run.end_ps for run in runs) * 1e-12, device


@pytest.mark.parametrize("launch", [0.4e-6, 2.5e-6])
def test_a_chain_takes_the_slower_stream(launch):
    # kernel j is launched at j L and starts at max(its launch, the previous end): L + d + (n - 1) max(L, d)
    n = 50
    seconds, device = _chain(n, launch_overhead=f"{launch * 1e6}us", launch="async")
    assert seconds == pytest.approx(launch + D + (n - 1) * max(launch, D), rel=1e-9)
    stats = device.statistics()
    assert stats["busy_s"] == pytest.approx(n * D, rel=1e-9)           # GPU work only, not the idle gaps
    assert stats["host_launch_s"] == pytest.approx(n * launch, rel=1e-9)
    host = {r.name: r for r in device.resources()}["gpu.host_launch"]   # a floor: the last launch
    assert (host.used, host.floor_s) == (pytest.approx(n), pytest.approx(n * launch, rel=1e-9))


def test_serial_launch_adds_to_every_kernel():
    seconds, device = _chain(10, launch_overhead="2.5us")
    assert seconds == pytest.approx(10 * (2.5e-6 + D), rel=1e-9)
    assert "host_launch_s" not in device.statistics()


def test_an_operator_of_several_kernels_launches_each():
    # 3 kernels of d / 3 each behind launches of 2 us: the host binds, the last ends at 3 L + d / 3
    seconds, _ = _chain(1, launch_overhead="2us", launch="async", kernels_per_op={"elementwise": 3})
    assert seconds == pytest.approx(3 * 2e-6 + D / 3, rel=1e-9)


def test_kernel_startup_stays_on_the_gpu_and_async_timing_is_not_pure():
    seconds, device = _chain(20, launch_overhead="0.1us", kernel_startup="1us", launch="async")
    assert seconds == pytest.approx(0.1e-6 + 20 * (D + 1e-6), rel=1e-9)    # GPU-bound: startup in each kernel
    assert not device.pure_timing
    _, serial = _chain(1, launch_overhead="0.1us")
    assert serial.pure_timing


def test_an_unknown_launch_mode_is_a_one_line_error():
    with pytest.raises(ConfigError, match="launch") as error:
        _chain(1, launch="eager")
    assert "Traceback" not in str(error.value)


def test_the_serving_layer_does_not_sum_async_operators():
    # a step is no longer the sum of its operators' times, so iteration costs go through the event simulation
    from hwsim.machine import machine_from_dict
    from hwsim.serving.additive import additive_reason
    from hwsim.workload.model import load_model
    model = load_model("llama3.2-1b")
    machine = {"name": "m", "description": "d", "source": "s", "mapping": {"default": "gpu"}}
    async_gpu = _gpu(launch_overhead="10us", launch="async")
    assert additive_reason(machine_from_dict({**machine, "components": {"gpu": async_gpu}}), model)
    assert not additive_reason(machine_from_dict({**machine, "components": {"gpu": _gpu()}}), model)
