"""The baseline: a bare Flask app answering ``GET /healthz`` with the same JSON as the app.

No extensions, no hooks, no config: the difference to ``app.wsgi:app`` is the cost of
everything the real app adds around a request.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})
