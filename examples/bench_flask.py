"""Benchmark app (tests/bench/run.py, workload `flask`): one Flask route answering JSON.

GET /json returns a small JSON document through Flask's routing, request context and jsonify,
the per-request cost every Flask app pays before its own code runs.
"""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/json")
def json_view():
    return jsonify(message="Hello, World!", items=[1, 2, 3], ok=True)
