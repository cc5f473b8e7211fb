"""What `hwsim list` and `hwsim run --help` tell a user is whole and true."""
import pytest

from hwsim.cli import main
from hwsim.components.base import component_types
from hwsim.machine import load_machine, shipped_machines
from hwsim.workload.model import load_model


def _section(out: str, title: str) -> dict[str, str]:
    """name -> text of the rows under the heading that starts with `title`."""
    rows, inside = {}, False
    for line in out.splitlines():
        if not line.startswith("  "):
            inside = line.startswith(title)
        elif inside:
            name, text = line.strip().split(None, 1)
            rows[name] = text
    return rows


def test_every_architecture_and_component_type_is_described_in_a_whole_sentence(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    lines = {**_section(out, "architectures"), **_section(out, "component types")}
    assert set(lines) == set(shipped_machines()) | set(component_types())
    fragments = {name: text for name, text in lines.items() if not (text[0].isupper() and text.endswith("."))}
    assert fragments == {}


def test_kv_help_states_the_default_the_code_uses(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "the machine's precision: kv_cache, else the model's activation format; --activations does not " \
           "change it" in " ".join(capsys.readouterr().out.split())
    model = load_model("llama2-7b")
    activations = model.activation_dtype or model.dtype
    assert load_machine("cambricon_llm_s").precision_for(model).kv_cache == "int8"      # precision: kv_cache
    lut = load_machine("lut_tensor_core_a100")                                         # precision: without kv_cache
    assert lut.precision_for(model).activations == "int8" and lut.precision_for(model).kv_cache == activations
    assert load_machine("nvidia_a100_80gb").precision_for(model, activations="int4").kv_cache == activations
