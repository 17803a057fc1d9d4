"""Benchmark app (tests/bench/run.py, workload `post64k`): echoes the request body back.

Reads exactly CONTENT_LENGTH bytes from wsgi.input (64 KiB in the benchmark) and returns them
with the same Content-Length.
"""


def app(environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(body)))])
    return [body]
