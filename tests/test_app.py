import json
import os
import re
import shutil
import subprocess
import threading
import urllib.parse
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from absa.app import MAX_ASPECTS, MAX_BATCH_ITEMS, MAX_BODY_BYTES, MAX_PAIRS, MAX_TEXT_CHARS, create_app
from absa.app.batching import MicroBatcher, Overloaded
from conftest import REPO


@pytest.fixture(scope="module")
def client(tiny_model):
    folder, _ = tiny_model
    app = create_app(folder)
    app.config["TESTING"] = True
    return app.test_client()


def test_model_is_loaded_once_at_start_up(tiny_model, monkeypatch):
    import absa.app

    loads = []
    real = absa.app.Predictor

    def counting(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(absa.app, "Predictor", counting)
    client = create_app(tiny_model[0]).test_client()
    for _ in range(3):
        assert client.post("/api/predict", json={"text": "Great pasta", "aspects": ["pasta"]}).status_code == 200
    assert len(loads) == 1


def test_predict_returns_one_prediction_per_aspect_in_order(client):
    response = client.post(
        "/api/predict",
        json={"text": "The pasta was wonderful but the service was terrible.", "aspects": ["service", "pasta", "nan"]},
    )
    assert response.status_code == 200
    predictions = response.get_json()["predictions"]
    assert [p["aspect"] for p in predictions] == ["service", "pasta", "nan"]
    for p in predictions:
        assert p["label"] in (0, 1, 2)
        assert p["sentiment"] == ("negative", "neutral", "positive")[p["label"]]
        assert set(p["scores"]) == {"negative", "neutral", "positive"}
        assert sum(p["scores"].values()) == pytest.approx(1.0, abs=1e-3)
        assert max(p["scores"], key=p["scores"].get) == p["sentiment"]


def test_batch_matches_single_requests(client):
    items = [
        {"text": "I loved the dessert.", "aspects": ["dessert"]},
        {"text": "Awful decor and rude staff.", "aspects": ["decor", "staff"]},
    ]
    batch = client.post("/api/predict/batch", json={"items": items}).get_json()["results"]
    single = [client.post("/api/predict", json=item).get_json() for item in items]
    assert [r["predictions"] for r in batch] == [s["predictions"] for s in single]


def test_health_and_page(client):
    assert client.get("/health").get_json()["status"] == "ok"
    page = client.get("/")
    assert page.status_code == 200 and b"/api/predict" in page.data


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"data": "not json", "content_type": "application/json"}, "must be JSON"),
        ({"data": "text=hi", "content_type": "application/x-www-form-urlencoded"}, "must be JSON"),
        ({"json": ["a list"]}, "JSON object"),
        ({"json": {"aspects": ["food"]}}, "'text' is missing"),
        ({"json": {"text": "  ", "aspects": ["food"]}}, "'text' is empty"),
        ({"json": {"text": 3, "aspects": ["food"]}}, "'text' must be a string"),
        ({"json": {"text": "Good food"}}, "'aspects' is missing"),
        ({"json": {"text": "Good food", "aspects": []}}, "'aspects' is empty"),
        ({"json": {"text": "Good food", "aspects": "food"}}, "list of strings"),
        ({"json": {"text": "Good food", "aspects": ["food", 1]}}, "list of strings"),
        ({"json": {"text": "Good food", "aspects": [""]}}, "empty string"),
        ({"json": {"text": "Good food", "aspects": ["food"] * (MAX_ASPECTS + 1)}}, "at most"),
        ({"json": {"text": "x" * (MAX_TEXT_CHARS + 1), "aspects": ["x"]}}, "at most"),
    ],
)
def test_bad_input_gets_400_with_a_reason(client, kwargs, message):
    response = client.post("/api/predict", **kwargs)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"items": []}, "at least one item"),
        ({"nothing": 1}, "at least one item"),
        ({"items": [{"text": "ok", "aspects": ["ok"]}, {"text": "", "aspects": ["a"]}]}, "items[1]: 'text' is empty"),
        ({"items": [{"text": "ok", "aspects": ["ok"]}] * (MAX_BATCH_ITEMS + 1)}, "at most"),
    ],
)
def test_bad_batch_gets_400(client, body, message):
    response = client.post("/api/predict/batch", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_oversized_body_gets_413_and_the_worker_survives(client):
    response = client.post("/api/predict", data="x" * (MAX_BODY_BYTES + 1), content_type="application/json")
    assert response.status_code == 413 and "error" in response.get_json()
    assert client.post("/api/predict", json={"text": "Good food", "aspects": ["food"]}).status_code == 200


def test_unknown_route_and_method_are_json(client):
    assert client.get("/nope").status_code == 404 and "error" in client.get("/nope").get_json()
    assert client.get("/api/predict").status_code == 405


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=20000",
    "--window-size=900,700",
]


def test_page_renders_a_prediction_in_headless_chromium(tiny_model, tmp_path):
    """A real browser loads the page, the page calls the API, and the prediction appears highlighted."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium not installed")
    server = make_server("127.0.0.1", 0, create_app(tiny_model[0]), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    query = urllib.parse.urlencode(
        {"text": "The pasta was wonderful but the service was terrible.", "aspects": "pasta, service"}
    )
    url = f"http://127.0.0.1:{server.server_port}/?{query}"
    shots = Path(os.environ.get("ABSA_SCREENSHOT_DIR", tmp_path))
    try:
        base = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]
        dom = subprocess.run([CHROMIUM, *base, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        subprocess.run([CHROMIUM, *base, f"--screenshot={shots / 'app.png'}", url], capture_output=True, timeout=120)
    finally:
        server.shutdown()
    marks = re.findall(r'<mark class="(negative|neutral|positive)" title="\1">(pasta|service)</mark>', dom)
    assert {aspect for _, aspect in marks} == {"pasta", "service"}, dom[-2000:]
    assert re.search(r"<td>pasta</td><td><mark class=\"(negative|neutral|positive)\">", dom)
    assert (shots / "app.png").stat().st_size > 10_000


def test_the_page_finds_aspects_itself_and_highlights_them_by_offset_in_headless_chromium(tiny_model, tmp_path):
    """Find mode: the page calls /api/analyze with the text alone and marks each found span where its offsets say
    (the second "service" below, not the first), with a row per aspect; a text without aspects says so."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium not installed")

    class FoundByRule:
        """Stands in for the tagger so that the page, not the model, is what is tested."""

        def extract(self, texts):
            found = []
            for text in texts:
                start = text.rfind("service")
                found.append(
                    []
                    if start < 0
                    else [
                        {
                            "aspect": "pasta",
                            "start": 4,
                            "end": 9,
                            "label": 2,
                            "sentiment": "positive",
                            "confidence": 0.9,
                        },
                        {
                            "aspect": "service",
                            "start": start,
                            "end": start + 7,
                            "label": 0,
                            "sentiment": "negative",
                            "confidence": 0.8,
                        },
                    ]
                )
            return found

    app = create_app(tiny_model[0])
    app.extensions["absa_extractor"] = FoundByRule()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]

    def page(text):
        url = f"http://127.0.0.1:{server.server_port}/?" + urllib.parse.urlencode({"mode": "find", "text": text})
        return subprocess.run([CHROMIUM, *base, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout

    try:
        dom = page("The pasta was good; service? The service was rude.")
        empty = page("Nothing to see here.")
    finally:
        server.shutdown()
    sentence = re.search(r'<div id="sentence">(.*?)</div>', dom, re.S).group(1)
    assert sentence == (
        'The <mark class="positive" title="positive">pasta</mark> was good; service? The '
        '<mark class="negative" title="negative">service</mark> was rude.'
    ), dom[-3000:]
    assert '<td>service</td><td><mark class="negative">negative</mark></td><td>80.0%</td>' in dom
    assert 'id="aspects-field" hidden=""' in dom
    assert '<p id="none">No aspect found in this text.</p>' in empty and '<table id="found" hidden="">' in empty


def test_an_aspect_missing_from_the_text_is_flagged(client):
    predictions = client.post("/api/predict", json={"text": "Great pasta.", "aspects": ["pasta", "parking"]}).get_json()
    found = {p["aspect"]: p["found_in_text"] for p in predictions["predictions"]}
    assert found == {"pasta": True, "parking": False}
    assert "warning" not in predictions["predictions"][0] and "guess" in predictions["predictions"][1]["warning"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"text": "Great pasta.", "aspects": ["very long aspect " * 50]}, "fit the model's window"),
        ({"text": "Great \ud800 pasta.", "aspects": ["pasta"]}, "'text' is not valid Unicode"),
        ({"text": "Great pasta.", "aspects": ["pasta", "\ud800"]}, "'aspects'[1] is not valid Unicode"),
    ],
)
def test_input_the_model_cannot_take_gets_400_not_500(client, body, message):
    response = client.post("/api/predict", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_absurdly_nested_json_gets_400(client):
    response = client.post("/api/predict", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert response.status_code == 400 and "must be JSON" in response.get_json()["error"]


def test_one_request_is_bounded_in_pairs(client):
    items = [{"text": "Good food", "aspects": ["food"] * MAX_ASPECTS}] * (MAX_PAIRS // MAX_ASPECTS + 1)
    response = client.post("/api/predict/batch", json={"items": items})
    assert response.status_code == 400 and f"at most {MAX_PAIRS}" in response.get_json()["error"]


def test_every_response_carries_security_headers(client):
    for response in (client.get("/"), client.post("/api/predict", json={"text": "Good food", "aspects": ["food"]})):
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = client.get("/")
    nonce = re.search(r"script-src 'nonce-([\w-]+)'", page.headers["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">'.encode() in page.data and f'<style nonce="{nonce}">'.encode() in page.data
    assert nonce not in client.get("/").headers["Content-Security-Policy"]  # a fresh nonce per response


def test_a_chunked_body_over_the_limit_gets_413_from_the_real_server(tiny_model):
    import http.client

    server = make_server("127.0.0.1", 0, create_app(tiny_model[0]), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        chunk = b'{"text": "' + b"x" * 65536
        connection.request(
            "POST",
            "/api/predict",
            body=iter([chunk] * 5),
            encode_chunked=True,
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        )
        response = connection.getresponse()
        assert response.status == 413 and "error" in json.loads(response.read())
    finally:
        server.shutdown()


def test_gunicorn_binds_to_localhost_unless_told(monkeypatch):
    import runpy

    config = REPO / "absa" / "app" / "gunicorn.conf.py"
    monkeypatch.delenv("BIND", raising=False)
    assert runpy.run_path(str(config))["bind"] == "127.0.0.1:8000"
    monkeypatch.setenv("BIND", "0.0.0.0:8000")
    assert runpy.run_path(str(config))["bind"] == "0.0.0.0:8000"


def test_concurrent_requests_to_the_real_server_share_passes_and_get_their_own_answers(tiny_model, monkeypatch):
    import urllib.request

    monkeypatch.setenv("MICRO_BATCH_WAIT_MS", "100")
    app = create_app(tiny_model[0], micro_batching=True)
    batcher = app.extensions["absa_predict_proba"]
    assert isinstance(batcher, MicroBatcher)
    unbatched = create_app(tiny_model[0], micro_batching=False).test_client()
    items = [
        {"text": f"The dish number {i} was {'great' if i % 2 else 'awful'}.", "aspects": ["dish"]} for i in range(12)
    ]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    answers = [None] * len(items)

    def send(i):
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.server_port}/api/predict",
            data=json.dumps(items[i]).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answers[i] = json.loads(response.read())

    try:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(items))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.shutdown()
    for item, answer in zip(items, answers):
        alone = unbatched.post("/api/predict", json=item).get_json()
        assert answer["predictions"][0]["label"] == alone["predictions"][0]["label"]
        for name, score in alone["predictions"][0]["scores"].items():
            assert answer["predictions"][0]["scores"][name] == pytest.approx(score, abs=2e-3)
    assert sum(batcher.batch_sizes) == len(items) and max(batcher.batch_sizes) > 1


@pytest.mark.parametrize(
    "error, status", [(Overloaded("2048 pairs are waiting"), 429), (TimeoutError("no answer within 30 s"), 503)]
)
def test_a_server_that_cannot_take_the_request_says_when_to_retry(tiny_model, error, status):
    app = create_app(tiny_model[0])

    def refuse(texts, aspects):
        raise error

    app.extensions["absa_predict_proba"] = refuse
    response = app.test_client().post("/api/predict", json={"text": "Great pasta", "aspects": ["pasta"]})
    assert response.status_code == status
    assert response.headers["Retry-After"] == "1" and "retry" in response.get_json()["error"]


def test_micro_batching_is_on_by_default_and_can_be_turned_off(tiny_model, monkeypatch):
    monkeypatch.delenv("MICRO_BATCHING", raising=False)
    app = create_app(tiny_model[0])
    app.test_client().post("/api/predict", json={"text": "Great pasta, slow waiter", "aspects": ["pasta", "waiter"]})
    health = app.test_client().get("/health").get_json()
    assert health["micro_batching"] is True and health["passes"] == 1 and health["pairs_predicted"] == 2
    assert health["model_busy_seconds"] > 0
    monkeypatch.setenv("MICRO_BATCHING", "0")
    app = create_app(tiny_model[0])
    assert app.test_client().get("/health").get_json()["micro_batching"] is False
    assert not isinstance(app.extensions["absa_predict_proba"], MicroBatcher)


def test_analyze_finds_aspects_in_raw_text_with_offsets(tiny_model, tiny_tagger):
    client = create_app(tiny_model[0], extractor_dir=tiny_tagger).test_client()
    text = "The pizza was great but the service was rude. We came back on a soup night."
    response = client.post("/api/analyze", json={"text": text})
    assert response.status_code == 200
    aspects = response.get_json()["aspects"]
    assert [(a["aspect"], a["sentiment"]) for a in aspects] == [("pizza", "positive"), ("service", "negative")]
    for a in aspects:
        assert text[a["start"] : a["end"]] == a["aspect"] and 0 < a["confidence"] <= 1
    batch = client.post("/api/analyze", json={"texts": [text, "We came back on a soup night."]}).get_json()
    assert batch["results"] == [{"aspects": aspects}, {"aspects": []}]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"text": ""}, "'text' is empty"),
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, "at most"),
        ({"text": "\ud800"}, "not valid Unicode"),
        ({"texts": []}, "non-empty list"),
        ({"texts": ["fine", 3]}, "texts[1]: 'text' must be a string"),
        ({"texts": ["a"] * (MAX_BATCH_ITEMS + 1)}, "at most"),
        ({"text": "a", "texts": ["b"]}, "expected"),
        ([1, 2], "expected"),
    ],
)
def test_analyze_refuses_bad_input_with_400(tiny_model, tiny_tagger, body, message):
    client = create_app(tiny_model[0], extractor_dir=tiny_tagger).test_client()
    data = json.dumps(body, ensure_ascii=True)  # a lone surrogate travels as an escape, as clients send it
    response = client.post("/api/analyze", data=data, content_type="application/json")
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_analyze_without_an_extractor_says_so(tiny_model, tmp_path):
    client = create_app(tiny_model[0], extractor_dir=tmp_path / "none").test_client()
    response = client.post("/api/analyze", json={"text": "Great pizza."})
    assert response.status_code == 503 and "no aspect extractor" in response.get_json()["error"]


def test_the_queue_bound_that_turns_waiting_into_429_is_set_by_the_environment(tiny_model, monkeypatch):
    monkeypatch.setenv("MICRO_BATCH_MAX_QUEUED_PAIRS", "300")
    assert create_app(tiny_model[0], micro_batching=True).extensions["absa_predict_proba"].max_queued_pairs == 300
    monkeypatch.setenv("MICRO_BATCH_MAX_QUEUED_PAIRS", "0")
    with pytest.raises(ValueError, match="max_queued_pairs must be positive, not 0"):
        create_app(tiny_model[0], micro_batching=True)
