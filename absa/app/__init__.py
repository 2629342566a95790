"""Flask application: a page and a JSON API over one Predictor, loaded once at start-up.

flask --app absa.app run                      # absa/models/default, or ABSA_MODEL_DIR
gunicorn -c absa/app/gunicorn.conf.py "absa.app:create_app()"

Concurrent requests share forward passes (``absa.app.batching``; ``MICRO_BATCHING=0`` turns it off, and
``MICRO_BATCH_WAIT_MS`` sets how long a pass waits for company, 2 ms by default; ``PREDICT_BATCH_SIZE`` the pairs
per forward pass, 16 by default). Under overload a request is refused at once with 429 and Retry-After rather than
queued without bound; one not answered within 30 s gets 503. ``/health`` reports the passes run, the pairs they
held and the seconds the model was busy since start-up.

Every response carries security headers (a content security policy with a per-response nonce for the page's own
script and style, no framing, no MIME sniffing). Authentication and rate limits live in front of the app (see
deployment_pipeline.md), not in it.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from absa.app.batching import MicroBatcher, Overloaded
from absa.src.data import LABELS, PACKAGE_DIR
from absa.src.extractor import DEFAULT_EXTRACTOR, Extractor
from absa.src.predict import AspectTooLong, Predictor, find_aspect

MAX_TEXT_CHARS = 2000
MAX_ASPECTS = 20
MAX_BATCH_ITEMS = 64
MAX_PAIRS = 256  # (text, aspect) pairs in one request, across a batch: bounds the work one request can cause
MAX_BODY_BYTES = 256 * 1024


class BadRequest(ValueError):
    """Input the API refuses, with the message the client sees."""


class Refused(RuntimeError):
    """Valid input the server cannot take on now (429 overloaded, 503 too slow): the client retries after a second."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _check_unicode(value: str, what: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{what} is not valid Unicode (it holds a lone surrogate)") from None


def _parse_text(text: object, where: str = "") -> str:
    if text is None:
        raise BadRequest(f"{where}'text' is missing")
    if not isinstance(text, str):
        raise BadRequest(f"{where}'text' must be a string")
    if not text.strip():
        raise BadRequest(f"{where}'text' is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRequest(f"{where}'text' has {len(text)} characters; at most {MAX_TEXT_CHARS} are accepted")
    _check_unicode(text, f"{where}'text'")
    return text


def _parse_item(item: object, where: str = "") -> tuple[str, list[str]]:
    """Check one {"text": ..., "aspects": [...]} object; return (text, aspects)."""
    if not isinstance(item, dict):
        raise BadRequest(f"{where}expected a JSON object with 'text' and 'aspects'")
    text, aspects = _parse_text(item.get("text"), where), item.get("aspects")
    if aspects is None:
        raise BadRequest(f"{where}'aspects' is missing")
    if not isinstance(aspects, list) or not all(isinstance(a, str) for a in aspects):
        raise BadRequest(f"{where}'aspects' must be a list of strings")
    if not aspects:
        raise BadRequest(f"{where}'aspects' is empty")
    if any(not a.strip() for a in aspects):
        raise BadRequest(f"{where}'aspects' holds an empty string")
    if len(aspects) > MAX_ASPECTS:
        raise BadRequest(f"{where}{len(aspects)} aspects; at most {MAX_ASPECTS} are accepted per text")
    for i, aspect in enumerate(aspects):
        _check_unicode(aspect, f"{where}'aspects'[{i}]")
    return text, aspects


def _json_body() -> object:
    """The request's JSON. A body over the size limit is a 413 (chunked or not), malformed or absurdly nested JSON a
    400."""
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        # Werkzeug cuts a chunked body at the limit without a word: read one byte past it instead
        data = request.environ["wsgi.input"].read(MAX_BODY_BYTES + 1)
        if len(data) > MAX_BODY_BYTES:
            raise RequestEntityTooLarge()
    else:
        data = request.get_data(cache=False)  # 413 past MAX_CONTENT_LENGTH
    if not request.is_json:
        raise BadRequest("the request body must be JSON (Content-Type: application/json)")
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise BadRequest("the request body must be JSON (Content-Type: application/json)") from None


def create_app(
    model_dir: str | os.PathLike | None = None,
    predictor: Predictor | None = None,
    micro_batching: bool | None = None,
    extractor_dir: str | os.PathLike | None = None,
) -> Flask:
    """The application; the models are loaded here, once, never per request. ``micro_batching`` defaults to the
    ``MICRO_BATCHING`` environment variable (on unless it is 0); ``extractor_dir`` (default ``ABSA_E2E_MODEL_DIR``
    or ``absa/models/e2e``, where there is one) is the aspect tagger behind ``/api/analyze``."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    model_dir = Path(model_dir or os.environ.get("ABSA_MODEL_DIR") or PACKAGE_DIR / "models" / "default")
    # forward passes of at most 16 pairs, packed into rows of the window: a pass of whichever requests arrived
    # together computes little padding (absa.app.loadtest's ceiling is measured the same way)
    predictor = predictor or Predictor(model_dir, batch_size=int(os.environ.get("PREDICT_BATCH_SIZE", "16")))
    app.extensions["absa_predictor"] = predictor
    if micro_batching is None:
        micro_batching = os.environ.get("MICRO_BATCHING", "1") != "0"
    predict_proba = predictor.predict_proba
    if micro_batching:
        # the queue bound decides when a caller gets 429 at once instead of waiting: size it to the pairs a
        # container predicts in the time a caller should wait (deployment_pipeline.md)
        predict_proba = MicroBatcher(
            predictor.predict_proba,
            float(os.environ.get("MICRO_BATCH_WAIT_MS", "2")),
            max_queued_pairs=int(os.environ.get("MICRO_BATCH_MAX_QUEUED_PAIRS", "2048")),
        )
    app.extensions["absa_predict_proba"] = predict_proba
    extractor_dir = Path(extractor_dir or os.environ.get("ABSA_E2E_MODEL_DIR") or DEFAULT_EXTRACTOR)
    extractor = Extractor(extractor_dir, batch_size=16) if (extractor_dir / "absa_config.json").exists() else None
    app.extensions["absa_extractor"] = extractor

    def predict_items(items: list[tuple[str, list[str]]]) -> list[list[dict]]:
        texts = [text for text, aspects in items for _ in aspects]
        aspects = [aspect for _, item_aspects in items for aspect in item_aspects]
        if len(texts) > MAX_PAIRS:
            raise BadRequest(f"{len(texts)} (text, aspect) pairs; at most {MAX_PAIRS} are accepted per request")
        try:
            probs = app.extensions["absa_predict_proba"](texts, aspects)
        except AspectTooLong as err:
            raise BadRequest(str(err)) from None
        except Overloaded as err:
            raise Refused(429, f"server busy ({err}); retry shortly") from None
        except TimeoutError as err:
            raise Refused(503, f"prediction took too long ({err}); retry shortly") from None
        rows = iter(zip(texts, aspects, probs))
        results = []
        for _, item_aspects in items:
            predictions = []
            for _ in item_aspects:
                text, aspect, p = next(rows)
                label = int(p.argmax())
                prediction = {
                    "aspect": aspect,
                    "label": label,
                    "sentiment": LABELS[label],
                    "scores": {name: round(float(p[i]), 4) for i, name in enumerate(LABELS)},
                    "found_in_text": find_aspect(text, aspect) is not None,
                }
                if not prediction["found_in_text"]:
                    prediction["warning"] = "the aspect does not occur in the text: this sentiment is a guess"
                predictions.append(prediction)
            results.append(predictions)
        return results

    @app.before_request
    def make_nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.after_request
    def security_headers(response):
        nonce = g.get("csp_nonce", "")
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
            "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.get("/")
    def page():
        return render_template("index.html", max_text=MAX_TEXT_CHARS, max_aspects=MAX_ASPECTS, nonce=g.csp_nonce)

    @app.get("/health")
    def health():
        batcher = app.extensions["absa_predict_proba"]
        passes = (
            {
                "passes": batcher.passes,
                "pairs_predicted": batcher.pairs_predicted,
                "model_busy_seconds": round(batcher.busy_seconds, 3),
            }
            if isinstance(batcher, MicroBatcher)
            else {}
        )
        return jsonify(
            status="ok",
            model=model_dir.resolve().name,
            backbone=predictor.config["backbone"],
            micro_batching=micro_batching,
            **passes,
        )

    @app.post("/api/predict")
    def predict():
        text, aspects = _parse_item(_json_body())
        return jsonify(predictions=predict_items([(text, aspects)])[0])

    @app.post("/api/predict/batch")
    def predict_batch():
        body = _json_body()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise BadRequest('expected {"items": [{"text": ..., "aspects": [...]}, ...]} with at least one item')
        if len(items) > MAX_BATCH_ITEMS:
            raise BadRequest(f"{len(items)} items; at most {MAX_BATCH_ITEMS} are accepted per request")
        parsed = [_parse_item(item, f"items[{i}]: ") for i, item in enumerate(items)]
        return jsonify(results=[{"predictions": p} for p in predict_items(parsed)])

    @app.post("/api/analyze")
    def analyze():
        """Find the aspects of raw text: {"text": ...} or {"texts": [...]} (up to MAX_BATCH_ITEMS)."""
        body = _json_body()
        if not isinstance(body, dict) or ("text" in body) == ("texts" in body):
            raise BadRequest('expected {"text": ...} or {"texts": [...]}')
        if "texts" in body:
            texts = body["texts"]
            if not isinstance(texts, list) or not texts:
                raise BadRequest("'texts' must be a non-empty list of strings")
            if len(texts) > MAX_BATCH_ITEMS:
                raise BadRequest(f"{len(texts)} texts; at most {MAX_BATCH_ITEMS} are accepted per request")
            texts = [_parse_text(t, f"texts[{i}]: ") for i, t in enumerate(texts)]
        else:
            texts = [_parse_text(body["text"])]
        if app.extensions["absa_extractor"] is None:
            raise Refused(503, f"no aspect extractor is installed ({extractor_dir} missing); retry on another server")
        found = app.extensions["absa_extractor"].extract(texts)
        if "texts" in body:
            return jsonify(results=[{"aspects": aspects} for aspects in found])
        return jsonify(aspects=found[0])

    @app.errorhandler(BadRequest)
    def bad_request(err: BadRequest):
        return jsonify(error=str(err)), 400

    @app.errorhandler(Refused)
    def refused(err: Refused):
        return jsonify(error=str(err)), err.status, {"Retry-After": "1"}

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        message = f"request body over {MAX_BODY_BYTES} bytes" if err.code == 413 else err.description
        return jsonify(error=message), err.code

    @app.errorhandler(Exception)
    def internal_error(err: Exception):
        app.logger.exception("prediction failed")
        return jsonify(error="internal error"), 500

    return app
