import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, MPNetConfig, MPNetForSequenceClassification

from absa.src.packing import pack_rows, packed_logits, passes, supports_packing

SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, vocab_size=120)


def random_pairs(count: int, generator: torch.Generator, bert: bool) -> list[dict]:
    pairs = []
    for _ in range(count):
        length = int(torch.randint(3, 30, (1,), generator=generator))
        pair = {"input_ids": torch.randint(5, 120, (length,), generator=generator).tolist()}
        if bert:  # text then aspect, as a tokenizer marks a pair
            pair["token_type_ids"] = [0] * (length - 2) + [1, 1]
        pairs.append(pair)
    return pairs


def padded_logits(model, pairs: list[dict]) -> torch.Tensor:
    width = max(len(p["input_ids"]) for p in pairs)
    pad = model.config.pad_token_id
    batch = {
        "input_ids": torch.tensor([p["input_ids"] + [pad] * (width - len(p["input_ids"])) for p in pairs]),
        "attention_mask": torch.tensor(
            [[1] * len(p["input_ids"]) + [0] * (width - len(p["input_ids"])) for p in pairs]
        ),
    }
    if "token_type_ids" in pairs[0]:
        batch["token_type_ids"] = torch.tensor(
            [p["token_type_ids"] + [0] * (width - len(p["input_ids"])) for p in pairs]
        )
    with torch.inference_mode():
        return model(**batch).logits


def test_rows_hold_every_pair_once_within_capacity_longest_first():
    lengths = [30, 5, 60, 12, 40, 7, 64, 20]
    rows = pack_rows(lengths, 64)
    assert sorted(i for row in rows for i in row) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in row) <= 64 for row in rows)
    assert rows[0] == [6] and rows[1][0] == 2  # the longest open the first rows
    assert len(rows) == 4  # 238 tokens need at least 4 rows of 64, and first-fit finds 4
    with pytest.raises(ValueError, match="70 tokens does not fit a row of 64"):
        pack_rows([10, 70], 64)


def test_passes_keep_row_order_and_their_pair_budget():
    rows = [[0], [1, 2], [3, 4, 5], [6], [7, 8, 9, 10, 11]]
    assert passes(rows, 3) == [[[0], [1, 2]], [[3, 4, 5]], [[6]], [[7, 8, 9, 10, 11]]]
    assert passes(rows, 100) == [rows]


@pytest.mark.parametrize("family", ["mpnet", "bert"])
def test_packed_logits_equal_padded_logits(family):
    torch.manual_seed(0)
    if family == "mpnet":
        model = MPNetForSequenceClassification(MPNetConfig(**SMALL, num_labels=3, pad_token_id=1)).eval()
    else:
        model = BertForSequenceClassification(BertConfig(**SMALL, num_labels=3, pad_token_id=0)).eval()
    assert supports_packing(model)
    generator = torch.Generator().manual_seed(1)
    pairs = random_pairs(12, generator, bert=family == "bert")
    rows = pack_rows([len(p["input_ids"]) for p in pairs], 64)
    assert any(len(row) > 1 for row in rows)  # pairs really share rows
    packed = packed_logits(model, [[pairs[i] for i in row] for row in rows])
    expected = padded_logits(model, pairs)[[i for row in rows for i in row]]
    torch.testing.assert_close(packed, expected, atol=1e-5, rtol=1e-4)
    # bf16 weights: the mask takes the weights' dtype, and the logits stay close
    half = packed_logits(model.to(torch.bfloat16), [[pairs[i] for i in row] for row in rows])
    assert (half.float() - expected).abs().max() < 0.1


def test_other_families_are_not_packed():
    assert not supports_packing(torch.nn.Linear(2, 2))
