import pytest

from absa.src.backbones import resolve_backbone
from absa.src.modeling import encode_pairs, load_tokenizer, mark_aspect, weights_fingerprint


def test_mark_aspect_brackets_the_first_mention_whatever_its_case():
    assert mark_aspect("Food was good, food was cheap", "food") == "[Food] was good, food was cheap"
    assert mark_aspect("The staff", "waiter") == "The staff"  # not in the text: unchanged


def test_marked_input_shows_the_aspect_position():
    tokenizer = load_tokenizer(resolve_backbone("minilm"))
    texts, aspects = ["the food was great but the service slow"], ["service"]
    pair = encode_pairs(tokenizer, texts, aspects)
    marked = encode_pairs(tokenizer, texts, aspects, input_format="marked")
    assert len(marked["input_ids"][0]) == len(pair["input_ids"][0]) + 2  # one bracket token each side
    assert "[ service ]" in tokenizer.decode(marked["input_ids"][0])
    with pytest.raises(ValueError, match="input_format"):
        encode_pairs(tokenizer, texts, aspects, input_format="prompt")


@pytest.mark.parametrize(
    "amx, avx512_bf16, expected", [(False, False, False), (True, False, True), (False, True, True)]
)
def test_bf16_auto_follows_the_cpu_instructions(monkeypatch, amx, avx512_bf16, expected):
    import torch

    from absa.src.modeling import use_bf16

    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)
    cpu = torch.device("cpu")
    assert use_bf16("auto", cpu) is expected
    assert use_bf16("no", cpu) is False and use_bf16("yes", cpu) is True
    with pytest.raises(ValueError, match="bf16"):
        use_bf16("fast", cpu)


def test_a_full_model_folder_without_weights_says_how_to_rebuild_them(tmp_path):
    import json

    from absa.src.modeling import load_model_folder

    (tmp_path / "absa_config.json").write_text(json.dumps({"backbone": "minilm", "regime": "full"}))
    with pytest.raises(FileNotFoundError, match="make train-fast"):
        load_model_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match=f"--like {tmp_path}"):
        load_model_folder(tmp_path)


def test_loading_a_lora_folder_warns_of_nothing_the_user_can_act_on(tiny_model):
    import warnings

    from absa.src.modeling import load_model_folder

    folder, _ = tiny_model
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model_folder(folder)
    assert not [w for w in caught if issubclass(w.category, FutureWarning)], [str(w.message) for w in caught]


def test_weights_fingerprint_changes_with_the_weights_only(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "README.md").write_text("card")
    before = weights_fingerprint(tmp_path)
    (tmp_path / "README.md").write_text("another card")
    assert weights_fingerprint(tmp_path) == before and len(before) == 12
    (tmp_path / "model.safetensors").write_bytes(b"other weights")
    assert weights_fingerprint(tmp_path) != before
    with pytest.raises(FileNotFoundError, match="no weight files"):
        weights_fingerprint(tmp_path / "missing")


def test_an_exported_adapter_names_its_base_by_hub_id_and_loads_without_a_network(tiny_model):
    import json

    from absa.src.backbones import HUB_IDS
    from absa.src.modeling import load_model_folder

    folder, _ = tiny_model
    adapter = json.loads((folder / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == HUB_IDS["minilm"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert resolve_backbone(HUB_IDS["minilm"]) == resolve_backbone("minilm")  # the hub id maps to the package
    model, _, config = load_model_folder(folder)  # HF_HUB_OFFLINE=1 (conftest): nothing is fetched
    assert config["backbone"] == "minilm" and not model.training
