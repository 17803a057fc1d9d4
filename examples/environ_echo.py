"""A WSGI app that answers with its request as JSON, for the HTTP conformance tests.

Every call reads wsgi.input to the end (errors in a streamed chunked body only surface
there: the exception is left to propagate so the server answers 500 or closes), then
answers 200 with application/json:

    {"environ": {the str-valued CGI and HTTP_* variables, wsgi.url_scheme},
     "body": body as latin-1 text}

When the environment variable ECHO_CALL_LOG names a file, each call first appends one
JSON line {"method": ..., "uri": ..., "pid": ...} to it. The file is opened, written with
a single O_APPEND write and closed per call, so lines from several worker processes and
threads never interleave and a test can tell whether a request reached the app at all.
"""
import json
import os

READ_SIZE = 65536


def _request_uri(environ):
    """The request target as the client sent it, or the closest reconstruction."""
    if "RAW_URI" in environ:
        return environ["RAW_URI"]
    uri = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    if environ.get("QUERY_STRING"):
        uri += "?" + environ["QUERY_STRING"]
    return uri


def _log_call(environ):
    path = os.environ.get("ECHO_CALL_LOG")
    if not path:
        return
    line = json.dumps({"method": environ.get("REQUEST_METHOD"),
                       "uri": _request_uri(environ),
                       "pid": os.getpid()}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("ascii"))
    finally:
        os.close(fd)


def _read_body(environ):
    """Reads the whole body: up to CONTENT_LENGTH when given, else to the end of input."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH", "")
    remaining = int(length) if length.isdigit() else None
    chunks = []
    while remaining is None or remaining > 0:
        size = READ_SIZE if remaining is None else min(READ_SIZE, remaining)
        data = stream.read(size)
        if not data:
            break
        chunks.append(data)
        if remaining is not None:
            remaining -= len(data)
    return b"".join(chunks)


def app(environ, start_response):
    _log_call(environ)
    body = _read_body(environ)
    # CGI variables and every HTTP_* (a header name may contain a dot); the other dotted
    # keys (wsgi.*, server extensions) hold objects or server details, not request data,
    # except the scheme, which a trusted proxy's X-Forwarded-Proto sets.
    echoed = {key: value for key, value in environ.items()
              if isinstance(value, str) and (key.startswith("HTTP_") or "." not in key
                                             or key == "wsgi.url_scheme")}
    payload = json.dumps({"environ": echoed, "body": body.decode("latin-1")},
                         sort_keys=True).encode("ascii")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(payload)))])
    return [payload]
