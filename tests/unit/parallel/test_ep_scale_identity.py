"""Expert-parallel steps on 4, 8 and 16 devices give bit-for-bit the reports they gave before the
many-device speed-ups (each layer's expert operators built once, identical devices simulated once):
every operator's start, end, energy and bytes, the totals and the expert load, digested.

The digests in data/ep_identity.json were captured from the code before those changes
(``python tests/unit/parallel/test_ep_scale_identity.py`` rewrites them: only do that for a change
meant to move the numbers)."""
import hashlib
import json
from pathlib import Path

import pytest

from hwsim.config.loader import load_document
from hwsim.machine import ARCHITECTURES_DIR, machine_from_dict
from hwsim.step import simulate

GOLDEN = Path(__file__).parent / "data" / "ep_identity.json"
CASES = {  # devices: (routing, overlap); DeepSeek-V2-Lite decode, 4 sequences per device at 512 tokens
    4: ("zipf", "none"),
    8: ("uniform", "token_split"),
    16: ("uniform", "none"),
}


def _machine(devices: int, overlap: str):
    """CloudMatrix-Infer's decode machine cut to ``devices`` NPUs (EP over all of them)."""
    data = load_document(ARCHITECTURES_DIR / "cloudmatrix384_decode.yaml", search_dirs=[ARCHITECTURES_DIR]).data
    data["components"]["npu"]["count"] = data["components"]["ub"]["ranks"] = devices
    data["parallelism"].update(dp=devices, ep=devices, redundant_experts=devices, overlap=overlap)
    return machine_from_dict(data)


def _digest(devices: int) -> dict:
    from hwsim.workload.routing import RoutingSpec
    routing, overlap = CASES[devices]
    spec = RoutingSpec(kind="zipf", s=1.0) if routing == "zipf" else RoutingSpec()
    report = simulate(_machine(devices, overlap), "deepseek-v2-lite", batch=4 * devices, context=512, routing=spec)
    ops = json.dumps([list(vars(record).values()) for record in report.ops])
    whole = json.dumps([report.latency_s, report.energy_j, report.parallel, report.components,
                        [vars(r) for r in report.resources], report.footprint.to_dict()], sort_keys=True, default=str)
    return {"latency_s": report.latency_s, "ops": len(report.ops),
            "sha256": hashlib.sha256((ops + whole).encode()).hexdigest()}


@pytest.mark.parametrize("devices", sorted(CASES))
def test_ep_report_is_unchanged(devices):
    assert _digest(devices) == json.loads(GOLDEN.read_text())[str(devices)]


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps({str(d): _digest(d) for d in sorted(CASES)}, indent=1) + "\n")
