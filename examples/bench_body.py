"""Benchmark app (tests/bench/run.py, workload `body10k`): a 10 KiB body with a Content-Length."""

BODY = (b"0123456789abcdef" * 640)  # 10240 bytes
HEADERS = [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", list(HEADERS))
    return [BODY]
