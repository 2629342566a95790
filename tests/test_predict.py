import numpy as np
import pytest
import torch

from absa.src.predict import Predictor, use_int8
from conftest import synthetic_frame


@pytest.fixture(scope="module")
def predictor(tiny_model):
    return Predictor(tiny_model[0], batch_size=4, bf16="no")


def test_length_sorted_batches_return_input_order(predictor):
    frame = synthetic_frame()
    texts = frame["text"].tolist()
    texts[3] = texts[3] + " " + "and then some more words to make this row long " * 5
    batched = predictor.predict_proba(texts, frame["aspect"].tolist())
    one_by_one = np.stack([predictor.predict_proba([t], [a])[0] for t, a in zip(texts, frame["aspect"])])
    assert batched.shape == (len(frame), 3)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-4)
    np.testing.assert_allclose(batched.sum(axis=1), 1.0, atol=1e-5)
    assert (predictor.predict(texts, frame["aspect"].tolist()) == batched.argmax(axis=1)).all()


def test_bad_arguments(predictor):
    with pytest.raises(ValueError, match="2 texts but 1 aspects"):
        predictor.predict(["a", "b"], ["a"])
    assert predictor.predict_proba([], []).shape == (0, 3)
    with pytest.raises(ValueError, match="quantize"):
        use_int8("maybe", torch.device("cpu"), False)


def test_int8_quantization_replaces_linears_and_stays_close(tiny_model, predictor):
    quantized = Predictor(tiny_model[0], bf16="no", quantize="yes")
    assert quantized.quantized
    assert not any(type(m) is torch.nn.Linear for m in quantized.model.modules())
    frame = synthetic_frame()
    exact = predictor.predict_proba(frame["text"].tolist(), frame["aspect"].tolist())
    approx = quantized.predict_proba(frame["text"].tolist(), frame["aspect"].tolist())
    assert np.abs(exact - approx).max() < 0.05


def test_bf16_casts_the_weights_once_and_stays_close_to_fp32(tiny_model, predictor):
    half = Predictor(tiny_model[0], batch_size=4, bf16="yes")
    assert half.bf16 and {p.dtype for p in half.model.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in predictor.model.parameters()} == {torch.float32}
    frame = synthetic_frame()
    exact = predictor.predict_proba(frame["text"].tolist(), frame["aspect"].tolist())
    approx = half.predict_proba(frame["text"].tolist(), frame["aspect"].tolist())
    assert approx.dtype == np.float32 and np.abs(exact - approx).max() < 0.05
    # int8 dynamic quantization takes fp32 inputs, so it turns bf16 off
    assert not Predictor(tiny_model[0], bf16="yes", quantize="yes").bf16


def test_packed_rows_predict_what_padded_batches_predict(tiny_model, predictor):
    assert predictor.packing  # MiniLM is a BERT: its pairs are packed
    padded = Predictor(tiny_model[0], batch_size=4, bf16="no", packing=False)
    frame = synthetic_frame()
    texts = frame["text"].tolist()
    texts[1] = texts[1] + " and a much longer tail of words that gets its own row " * 3
    np.testing.assert_allclose(
        predictor.predict_proba(texts, frame["aspect"].tolist()),
        padded.predict_proba(texts, frame["aspect"].tolist()),
        atol=1e-5,
    )


def test_precision_names_the_format_the_passes_run_in(tiny_model):
    formats = {
        "int8": Predictor(tiny_model[0], bf16="yes", quantize="yes"),  # int8 layers take fp32 inputs, not bf16
        "bf16": Predictor(tiny_model[0], bf16="yes"),
        "fp32": Predictor(tiny_model[0], bf16="no"),
    }
    assert {name: predictor.precision for name, predictor in formats.items()} == {n: n for n in formats}
