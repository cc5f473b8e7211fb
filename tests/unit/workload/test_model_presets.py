"""Shipped model presets load and carry their provenance; broken model files fail with file:line messages."""
import pytest
import yaml

from hwsim.config.errors import ConfigError
from hwsim.workload.model import MODELS_DIR, load_model, shipped_models

DENSE = ["gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-small", "gpt3-medium", "gpt3-large",
         "gpt3-xl", "opt-6.7b", "opt-13b", "opt-30b", "opt-66b", "llama2-7b", "llama2-13b", "llama2-70b",
         "llama3-8b", "llama3-70b", "llama3.2-1b", "bitnet-b1.58-0.7b", "bitnet-b1.58-3b", "llama-3b",
         "qwen1.5-1.8b"]
MOE = ["mixtral-8x7b", "deepseek-v2-lite", "deepseek-v3", "qwen1.5-moe-a2.7b", "qwen3-30b-a3b",
       "olmoe-1b-7b", "pangu-pro-moe", "turbosparse-mixtral-47b"]


def test_every_expected_preset_ships():
    assert shipped_models() == sorted(DENSE + MOE)


@pytest.mark.parametrize("name", DENSE + MOE)
def test_preset_loads_with_provenance(name):
    model = load_model(name)
    assert model.name == name
    assert model.source and model.published.source
    assert (model.moe is not None) == (name in MOE)
    assert (model.published.active_params is not None) == (name in MOE)


@pytest.mark.parametrize("name", DENSE + MOE)
def test_preset_states_its_own_source_and_published_counts(name):
    """`extends:` must not hand one model's provenance or published figures to another."""
    raw = yaml.safe_load((MODELS_DIR / f"{name}.yaml").read_text())
    assert {"name", "source", "published"} <= raw.keys()
    stated = {k for k, v in load_model(name).published.model_dump().items() if v is not None}
    assert set(raw["published"]) == stated


def test_bitnet_is_ternary_weights_int8_activations():
    for name in ("bitnet-b1.58-0.7b", "bitnet-b1.58-3b"):
        model = load_model(name)
        assert (model.dtype, model.activation_dtype) == ("ternary", "int8")


def test_extends_overrides_only_what_differs():
    small, xl = load_model("llama2-7b"), load_model("llama2-70b")
    assert (xl.attention.kind, xl.attention.n_kv_heads, xl.vocab) == ("gqa", 8, small.vocab)


def test_load_by_path_and_unknown_name():
    assert load_model(MODELS_DIR / "opt-6.7b.yaml").name == "opt-6.7b"
    with pytest.raises(FileNotFoundError, match=r"no model preset 'llama2-7B' \(did you mean 'llama2-7b'\?\)"):
        load_model("llama2-7B")


GOOD = """\
name: bad
source: test
family: test
layers: 2
hidden: 64
vocab: 100
max_position: 128
positional: rope
norm: rmsnorm
tied_embeddings: false
attention:
  kind: gqa
  heads: 8
  kv_heads: 2
ffn: {activation: silu, gated: true, intermediate: 128}
published: {total_params: 1.0e6, source: test}
"""


def error_of(tmp_path, monkeypatch, text: str) -> str:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_model("bad.yaml")
    return str(caught.value)


def test_good_base_file_loads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.yaml").write_text(GOOD)
    assert load_model("good.yaml").attention.n_kv_heads == 2


def test_unknown_key_names_line_path_and_suggestion(tmp_path, monkeypatch):
    text = GOOD.replace("  kv_heads: 2\n", "  kv_heads: 2\n  hed_dim: 16\n")
    assert error_of(tmp_path, monkeypatch, text) == \
        "bad.yaml:15: attention.hed_dim: unknown key 'hed_dim' (did you mean 'head_dim'?)"


def test_gqa_without_kv_heads(tmp_path, monkeypatch):
    text = GOOD.replace("  kv_heads: 2\n", "")
    assert error_of(tmp_path, monkeypatch, text) == "bad.yaml:11: attention: gqa attention needs kv_heads"


def test_misspelt_top_level_key_reports_both_problems(tmp_path, monkeypatch):
    text = GOOD.replace("hidden: 64", "hiden: 64")
    assert error_of(tmp_path, monkeypatch, text).splitlines() == [
        "bad.yaml:1: hidden: missing required key",
        "bad.yaml:5: hiden: unknown key 'hiden' (did you mean 'hidden'?)",
    ]


def test_unknown_number_format(tmp_path, monkeypatch):
    message = error_of(tmp_path, monkeypatch, GOOD + "dtype: ternery\n")
    assert message.startswith("bad.yaml:17: dtype: unknown number format 'ternery' (did you mean 'ternary'?); known: ")


def test_error_in_a_file_extending_a_preset_points_at_the_child(tmp_path, monkeypatch):
    text = ("extends: mixtral-8x7b\nname: bad\n"
            "moe: {routed_experts: 8, top_k: 10, expert_intermediate: 64}\n")
    assert error_of(tmp_path, monkeypatch, text) == "bad.yaml:3: moe: top_k (10) exceeds routed_experts (8)"
