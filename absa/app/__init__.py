"""Flask application: a page and a JSON API over one Predictor, loaded once at start-up.

flask --app absa.app run                      # absa/models/default, or ABSA_MODEL_DIR
gunicorn -c absa/app/gunicorn.conf.py "absa.app:create_app()"
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from absa.src.data import LABELS, PACKAGE_DIR
from absa.src.predict import Predictor

MAX_TEXT_CHARS = 2000
MAX_ASPECTS = 20
MAX_BATCH_ITEMS = 64
MAX_BODY_BYTES = 256 * 1024


class BadRequest(ValueError):
    """Input the API refuses, with the message the client sees."""


def _parse_item(item: object, where: str = "") -> tuple[str, list[str]]:
    """Check one {"text": ..., "aspects": [...]} object; return (text, aspects)."""
    if not isinstance(item, dict):
        raise BadRequest(f"{where}expected a JSON object with 'text' and 'aspects'")
    text, aspects = item.get("text"), item.get("aspects")
    if text is None:
        raise BadRequest(f"{where}'text' is missing")
    if not isinstance(text, str):
        raise BadRequest(f"{where}'text' must be a string")
    if not text.strip():
        raise BadRequest(f"{where}'text' is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRequest(f"{where}'text' has {len(text)} characters; at most {MAX_TEXT_CHARS} are accepted")
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
    return text, aspects


def _json_body() -> object:
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("the request body must be JSON (Content-Type: application/json)")
    return body


def create_app(model_dir: str | os.PathLike | None = None, predictor: Predictor | None = None) -> Flask:
    """The application; the model is loaded here, once, never per request."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    model_dir = Path(model_dir or os.environ.get("ABSA_MODEL_DIR") or PACKAGE_DIR / "models" / "default")
    predictor = predictor or Predictor(model_dir)
    app.extensions["absa_predictor"] = predictor

    def predict_items(items: list[tuple[str, list[str]]]) -> list[list[dict]]:
        texts = [text for text, aspects in items for _ in aspects]
        aspects = [aspect for _, item_aspects in items for aspect in item_aspects]
        probs = predictor.predict_proba(texts, aspects)
        rows = iter(zip(aspects, probs))
        results = []
        for _, item_aspects in items:
            predictions = []
            for _ in item_aspects:
                aspect, p = next(rows)
                label = int(p.argmax())
                predictions.append(
                    {
                        "aspect": aspect,
                        "label": label,
                        "sentiment": LABELS[label],
                        "scores": {name: round(float(p[i]), 4) for i, name in enumerate(LABELS)},
                    }
                )
            results.append(predictions)
        return results

    @app.get("/")
    def page():
        return render_template("index.html", max_text=MAX_TEXT_CHARS, max_aspects=MAX_ASPECTS)

    @app.get("/health")
    def health():
        return jsonify(status="ok", model=model_dir.resolve().name, backbone=predictor.config["backbone"])

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

    @app.errorhandler(BadRequest)
    def bad_request(err: BadRequest):
        return jsonify(error=str(err)), 400

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        message = f"request body over {MAX_BODY_BYTES} bytes" if err.code == 413 else err.description
        return jsonify(error=message), err.code

    @app.errorhandler(Exception)
    def internal_error(err: Exception):
        app.logger.exception("prediction failed")
        return jsonify(error="internal error"), 500

    return app
