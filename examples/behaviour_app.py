"""A WSGI app with one route per HTTP/PEP 3333 behaviour, for the integration tests.

`app` dispatches on PATH_INFO (see ROUTES at the bottom). Routes that must leave a trace the
test can read (close() calls, "the app got here" markers) write small files into the directory
named by the BEHAVIOUR_DIR environment variable (pass it with `-e BEHAVIOUR_DIR=...`), under a
name given in the query string (`?name=...`). Routes that wait for the test block on a file
`<name>.go` appearing in that directory, always for a bounded time.

With WSGI_VALIDATE=1 in the environment every request goes through wsgiref.validate.validator,
so that protocol slips by the server show up as AssertionErrors/WSGIWarnings in its error log.
"""
import hashlib
import json
import os
import sys
import time
import urllib.parse
import wsgiref.validate

WAIT_LIMIT = 10.0  # seconds a route waits for the test's go-file before giving up
STREAM_CHUNK = b"x" * 65536
STREAM_CHUNKS = 16384  # 1 GiB in all: far more than any client reads before hanging up


def query(environ):
    return dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))


def marker_path(environ, suffix):
    """The file <BEHAVIOUR_DIR>/<name><suffix>; only a base name is taken from the query."""
    directory = os.environ["BEHAVIOUR_DIR"]
    name = os.path.basename(query(environ).get("name", "default"))
    return os.path.join(directory, name + suffix)


def record(environ, suffix, text):
    # Write then rename, so a test polling for the file never sees it half-written.
    path = marker_path(environ, suffix)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def wait_for_go(environ):
    """Blocks until the test creates <name>.go (bounded); True if it did."""
    path = marker_path(environ, ".go")
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.01)
    return False


def respond(start_response, body, status="200 OK", content_type="text/plain", extra=()):
    start_response(status, [("Content-Type", content_type),
                            ("Content-Length", str(len(body)))] + list(extra))
    return [body]


def pattern_bytes(size):
    """The deterministic content of the files served by /file (the test rebuilds it)."""
    block = bytes(i % 251 for i in range(251 * 64))
    return (block * (size // len(block) + 1))[:size]


class RecordingIterable:
    """A response body that records its close() call, and how far it got, to a file."""

    def __init__(self, environ, chunks, fail_after=None):
        self.environ = environ
        self.chunks = chunks
        self.fail_after = fail_after
        self.produced = 0

    def __iter__(self):
        for chunk in self.chunks:
            if self.fail_after is not None and self.produced >= self.fail_after:
                raise RuntimeError("behaviour_app: raised during iteration")
            self.produced += 1
            yield chunk

    def close(self):
        record(self.environ, ".closed", str(self.produced))


class ReadOnlyFile:
    """A file-like object with read() and close() but no fileno(): no sendfile possible."""

    def __init__(self, environ, data):
        self.environ = environ
        self.data = data
        self.offset = 0

    def read(self, size=-1):
        if size is None or size < 0:
            size = len(self.data) - self.offset
        piece = self.data[self.offset:self.offset + size]
        self.offset += len(piece)
        return piece

    def close(self):
        record(self.environ, ".closed", "closed")


# ---- routes: each is a WSGI app of its own ----

def hello(environ, start_response):
    return respond(start_response, b"Hello, World!")


def echo_query(environ, start_response):
    return respond(start_response, environ.get("QUERY_STRING", "").encode("latin-1"))


def no_length(environ, start_response):
    # No Content-Length: HTTP/1.1 gets a chunked response, HTTP/1.0 one ended by close.
    # A generator, so the server cannot learn the length by summing a list.
    start_response("200 OK", [("Content-Type", "text/plain")])
    return (piece for piece in [b"part1-", b"part2-", b"", b"part3"])


def echo(environ, start_response):
    body = environ["wsgi.input"].read()
    return respond(start_response, body, extra=[("X-Body-Length", str(len(body)))])


def no_read(environ, start_response):
    return respond(start_response, b"answered without reading")


def wait_then_read(environ, start_response):
    # Tells the test it was called, waits for its go, and only then touches wsgi.input:
    # lets the test check that "100 Continue" is not sent before the app reads.
    record(environ, ".called", "called")
    wait_for_go(environ)
    body = environ["wsgi.input"].read()
    return respond(start_response, body)


def status(environ, start_response):
    q = query(environ)
    code = int(q.get("code", "200"))
    start_response("%d Status" % code, [("Content-Type", "text/plain")])
    # With body=1 the app (wrongly) supplies a body that a 204/304 must not carry.
    return [b"this body must not be sent"] if q.get("body") == "1" else []


def bad_header(environ, start_response):
    """Headers a server must refuse to send (500): ?kind= picks the fault."""
    kind = query(environ).get("kind", "crlf")
    status_line, headers = "200 OK", [("Content-Type", "text/plain")]
    if kind in ("crlf", "lf", "nul"):
        injected = {"crlf": "\r\n", "lf": "\n", "nul": "\x00"}[kind] + "X-Injected: yes"
        headers.append(("X-Bad", "ok" + injected))
    elif kind == "status_crlf":
        status_line = "200 OK\r\nX-Injected: yes"
    elif kind == "name_space":
        headers.append(("X-Bad Name", "ok"))
    elif kind == "name_colon":
        headers.append(("X-Injected: yes\r\nX-Bad", "ok"))
    elif kind == "bytes_value":
        headers.append(("X-Bad", b"bytes are not allowed"))
    elif kind == "not_latin1":
        headers.append(("X-Bad", "\u20ac"))
    start_response(status_line, headers)
    return [b"must not be sent"]


def exc_info_before_headers(environ, start_response):
    # The common framework pattern: a 200 was set, an error happens before any body, and
    # the error page replaces it (PEP 3333 allows this while nothing has been sent).
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-First", "yes")])
    try:
        raise ValueError("behaviour_app: failure before any body")
    except ValueError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                       sys.exc_info())
    return [b"error page"]


def yield_str(environ, start_response):
    # PEP 3333: body items must be bytes; a str is an app error.
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["a str, not bytes"]


def own_date_and_server(environ, start_response):
    return respond(start_response, b"own headers",
                   extra=[("Server", "behaviour-app"),
                          ("Date", "Mon, 01 Jan 2001 00:00:00 GMT")])


def hop_by_hop(environ, start_response):
    # Hop-by-hop headers belong to the server (PEP 3333); an app that sets them anyway
    # must not be able to corrupt the framing or duplicate the server's own headers.
    body = b"hop-by-hop body"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body))),
                              ("Connection", "keep-alive"),
                              ("Keep-Alive", "timeout=999"),
                              ("Transfer-Encoding", "chunked"),
                              ("Upgrade", "h2c")])
    return [body]


def short_body(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "100")])
    return [b"0123456789"]


def long_body(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"0123456789", b"abcdefghij"]


def stream(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return RecordingIterable(environ, (STREAM_CHUNK for _ in range(STREAM_CHUNKS)))


def slow_gen(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def generate():
        yield b"first\n"
        went = wait_for_go(environ)
        yield b"second\n" if went else b"timed out\n"
    return generate()


def closing(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return RecordingIterable(environ, [b"one-", b"two-", b"three"])


def raise_in_iter(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return RecordingIterable(environ, [b"one-", b"two-", b"three"], fail_after=1)


def raise_before_start(environ, start_response):
    raise RuntimeError("behaviour_app: raised before start_response")


def start_response_twice(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    start_response("201 Created", [("Content-Type", "text/plain")])
    return [b"second start_response accepted"]


def exc_info_after_headers(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def generate():
        yield b"headers-sent;"
        try:
            raise ValueError("behaviour_app: failure after the headers went out")
        except ValueError:
            try:
                start_response("500 Internal Server Error",
                               [("Content-Type", "text/plain")], sys.exc_info())
            except ValueError:
                # PEP 3333: start_response re-raises exc_info once headers are sent. The
                # body can still carry the proof; then re-raise as an app should.
                record(environ, ".reraised", "ValueError")
                yield b"reraised:ValueError;"
                raise
        yield b"start_response did not re-raise"
    return generate()


def write_callable(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written-1;")
    write(b"written-2;")
    return [b"returned"]


def file_wrapped(environ, start_response):
    q = query(environ)
    size = int(q.get("size", "100000"))
    data = pattern_bytes(size)
    if q.get("mode") == "nofileno":
        filelike = ReadOnlyFile(environ, data)
    else:
        # A real file, so the server can use sendfile().
        path = os.path.join(os.environ["BEHAVIOUR_DIR"], "served-%d.bin" % size)
        if not os.path.exists(path):
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.replace(path + ".tmp", path)
        filelike = open(path, "rb")
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(size))])
    return environ["wsgi.file_wrapper"](filelike, 32768)


def describe(value):
    """A JSON-able description of one environ value: its type and value or abilities."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return {"type": type(value).__name__, "value": value}
    if isinstance(value, tuple):
        return {"type": "tuple", "value": list(value)}
    methods = ("read", "readline", "readlines", "__iter__", "write", "writelines", "flush")
    return {"type": type(value).__name__, "callable": callable(value),
            "methods": [m for m in methods if callable(getattr(value, m, None))]}


def environ_dump(environ, start_response):
    body = json.dumps({key: describe(value) for key, value in environ.items()}).encode()
    return respond(start_response, body, content_type="application/json")


def errors(environ, start_response):
    message = query(environ).get("msg", "behaviour_app: wsgi.errors line")
    environ["wsgi.errors"].write(message + "\n")
    environ["wsgi.errors"].flush()
    return respond(start_response, b"written to wsgi.errors")


def input_ops(environ, start_response):
    """Reads wsgi.input with the method named by ?op= and returns the pieces as JSON."""
    q = query(environ)
    stream_in = environ["wsgi.input"]
    op, n = q.get("op", "read"), int(q.get("n", "0"))
    pieces = []
    if op == "read":
        pieces = [stream_in.read()]
    elif op == "read_n":
        while True:
            piece = stream_in.read(n)
            pieces.append(piece)
            if not piece:
                break
    elif op in ("readline", "readline_n"):
        while True:
            piece = stream_in.readline(n) if op == "readline_n" else stream_in.readline()
            pieces.append(piece)
            if not piece:
                break
    elif op == "readlines":
        pieces = stream_in.readlines()
    elif op == "iter":
        pieces = list(stream_in)
    elif op == "readline_then_read":
        pieces = [stream_in.readline(), stream_in.read()]
    body = json.dumps([p.decode("latin-1") for p in pieces]).encode()
    return respond(start_response, body, content_type="application/json")


def hash_upload(environ, start_response):
    """Hashes the body in small reads; tells the test once 1 MiB has been read."""
    q = query(environ)
    chunk = int(q.get("chunk", "8192"))
    digest, total, largest, told = hashlib.sha256(), 0, 0, False
    while True:
        piece = environ["wsgi.input"].read(chunk)
        if not piece:
            break
        digest.update(piece)
        total += len(piece)
        largest = max(largest, len(piece))
        if not told and total >= 1 << 20:
            record(environ, ".progress", str(total))
            told = True
    body = json.dumps({"sha256": digest.hexdigest(), "length": total,
                       "largest_read": largest}).encode()
    return respond(start_response, body, content_type="application/json")


def read_all_record(environ, start_response):
    """Reads the whole body and records whether the read succeeded or raised."""
    try:
        body = environ["wsgi.input"].read()
    except Exception as exc:
        record(environ, ".read", "raised:" + type(exc).__name__)
        raise
    record(environ, ".read", "ok:%d" % len(body))
    return respond(start_response, body)


ROUTES = {
    "/hello": hello,
    "/echo_query": echo_query,
    "/no_length": no_length,
    "/echo": echo,
    "/no_read": no_read,
    "/wait_then_read": wait_then_read,
    "/status": status,
    "/bad_header": bad_header,
    "/exc_info_before_headers": exc_info_before_headers,
    "/yield_str": yield_str,
    "/own_date_and_server": own_date_and_server,
    "/hop_by_hop": hop_by_hop,
    "/short_body": short_body,
    "/long_body": long_body,
    "/stream": stream,
    "/slow_gen": slow_gen,
    "/closing": closing,
    "/raise_in_iter": raise_in_iter,
    "/raise_before_start": raise_before_start,
    "/start_response_twice": start_response_twice,
    "/exc_info_after_headers": exc_info_after_headers,
    "/write_callable": write_callable,
    "/file": file_wrapped,
    "/environ": environ_dump,
    "/errors": errors,
    "/input": input_ops,
    "/hash_upload": hash_upload,
    "/read_all_record": read_all_record,
}


def dispatch(environ, start_response):
    path = environ.get("PATH_INFO", "")
    route = ROUTES.get(path)
    if route is None and path.startswith("/environ/"):
        # /environ/<anything>: lets a test see how an arbitrary path was decoded.
        route = environ_dump
    if route is None:
        return respond(start_response, b"no such route", status="404 Not Found")
    return route(environ, start_response)


validated_dispatch = wsgiref.validate.validator(dispatch)


def app(environ, start_response):
    # Decided per request, not at import, so it does not matter when the server applies -e.
    if os.environ.get("WSGI_VALIDATE") == "1":
        return validated_dispatch(environ, start_response)
    return dispatch(environ, start_response)
