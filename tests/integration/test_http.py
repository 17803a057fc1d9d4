"""HTTP/1.1 protocol behaviour of wsgid over raw sockets, against examples/behaviour_app.py.

Covers connection management (keep-alive on 1.1 and 1.0, pipelining, Connection: close, a
client half-closing, idle keep-alive timeout), message framing (chunked bodies in and out,
HEAD, 204/304, Expect: 100-continue), request limits and strictness (414, 431, 413,
ambiguous or malformed framing -> 400), the server's checks on what the app sends (header
injection, hop-by-hop headers, bodies that disagree with Content-Length) and slow clients
(a half-sent head holds no thread; a client that hangs up makes the server close the result).

Tests decorated with @beyond_gunicorn test the spec where Debian's gunicorn 20.1 behaves
differently: with WSGID_TEST_SERVER=gunicorn they are expected failures, so a run against
gunicorn stays green while still checking every other test's logic.

test_wsgi.py imports the raw-HTTP helpers defined here (read_one_response and friends).
"""
import email.utils
import os
import select
import socket
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

APP = "behaviour_app:app"
ON_GUNICORN = harness.UNDER_GUNICORN
# Seconds any single socket operation or wait may block before the test fails. Shorter on
# gunicorn, where the expected failures would otherwise each sit out a long timeout.
IO_TIMEOUT = 4 if ON_GUNICORN else 10
STREAM_CHUNKS = 16384  # behaviour_app.STREAM_CHUNKS: chunks /stream produces if never stopped


def beyond_gunicorn(reason):
    """Marks a test whose spec gunicorn 20.1 does not meet: an expected failure on gunicorn."""
    def mark(test):
        test.gunicorn_differs = reason
        return unittest.expectedFailure(test) if ON_GUNICORN else test
    return mark


# ---- raw HTTP helpers (also used by test_wsgi.py) ----

class Response:
    """One parsed response; headers keep their order and duplicates."""

    def __init__(self, version, status, reason, headers, body):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # [(lower-case name, value)]
        self.body = body

    def values(self, name):
        return [v for n, v in self.headers if n == name.lower()]

    def header(self, name):
        values = self.values(name)
        return values[0] if values else None

    def __repr__(self):
        return "<Response %s %s %r %r>" % (self.status, self.reason, self.headers,
                                          self.body[:200])


def read_one_response(f, head_only=False):
    """Reads one response (1xx included) from a buffered socket file.

    The body is framed by chunked encoding (decoded strictly: a framing error raises),
    Content-Length (fewer bytes than announced are returned as they are, for truncation
    tests) or the end of the connection. head_only: the response to a HEAD, no body."""
    status_line = f.readline()
    if not status_line:
        raise ConnectionError("connection closed before a response")
    version, status, reason = (status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
                               + [""])[:3]
    status = int(status)
    headers = []
    while True:
        line = f.readline()
        if line in (b"\r\n", b"\n"):
            break
        if not line:
            raise ConnectionError("connection closed inside the response head")
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip().lower(), value.strip()))
    response = Response(version, status, reason, headers, b"")
    if head_only or status in (204, 304) or 100 <= status < 200:
        return response
    if (response.header("transfer-encoding") or "").lower() == "chunked":
        body = b""
        while True:
            size_line = f.readline()
            if not size_line.endswith(b"\r\n"):
                raise ValueError("bad chunk size line %r" % size_line)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    line = f.readline()
                    if line == b"\r\n":
                        break
                    if not line:
                        raise ConnectionError("connection closed inside the trailers")
                break
            data = f.read(size)
            crlf = f.read(2)
            if len(data) != size or crlf != b"\r\n":
                raise ValueError("bad chunk %r%r" % (data[:50], crlf))
            body += data
        response.body = body
    elif response.header("content-length") is not None:
        response.body = f.read(int(response.header("content-length")))
    else:
        response.body = f.read()
    return response


def read_final_response(f, head_only=False):
    """Reads responses until a final (non-1xx) one; returns (interim list, final)."""
    interim = []
    while True:
        response = read_one_response(f, head_only)
        if response.status >= 200:
            return interim, response
        interim.append(response)


def closes_within(sock, f, seconds):
    """True if the server ends the connection (EOF or reset) within seconds with no more
    data; False if it is still open then. Leaves f unusable on False."""
    sock.settimeout(seconds)
    try:
        extra = f.read(1)
    except (TimeoutError, socket.timeout):
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    if extra:
        raise AssertionError("unexpected bytes after the response: %r" % extra)
    return True


def still_open(sock):
    """True if the peer has not closed sock (checked without waiting or consuming data)."""
    sock.setblocking(False)
    try:
        data = sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)
        sock.settimeout(IO_TIMEOUT)
    return bool(data)


def abort(sock):
    """Closes sock with a RST (SO_LINGER 0), like a client that crashed or gave up."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def get(path, version="HTTP/1.1", headers=(), method="GET", body=b""):
    """The bytes of one request; Host is always sent on HTTP/1.1."""
    lines = ["%s %s %s" % (method, path, version)]
    if version == "HTTP/1.1":
        lines.append("Host: 127.0.0.1")
    lines += list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked_body(data, size=4):
    """data in chunked transfer coding, in chunks of size bytes."""
    pieces = [data[i:i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def exchange(server, data, head_only=False):
    """Sends data on a new connection and reads one final response."""
    with server.connect(IO_TIMEOUT) as sock:
        sock.sendall(data)
        return read_final_response(sock.makefile("rb"), head_only)[1]


def wait_for_file(path, seconds=IO_TIMEOUT):
    """Waits for a file the app writes; returns its content, or None on timeout."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                return f.read()
        time.sleep(0.02)
    return None


def wait_for_log(server, predicate, seconds=5):
    """Waits until predicate(log text) holds; returns the log."""
    return harness.wait_for_log(server, predicate, seconds)


class ServerTestCase(unittest.TestCase):
    """Starts one server per class: subclasses set FLAGS, WORKERS, THREADS."""

    FLAGS = ()
    WORKERS = 1
    THREADS = 4

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="wsgid-http-")
        cls.dir = cls.tmp.name
        cls.server = harness.Server(APP, "-e", "BEHAVIOUR_DIR=" + cls.dir,
                                    "--graceful-timeout", "3", *cls.FLAGS,
                                    workers=cls.WORKERS, threads=cls.THREADS)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        cls.tmp.cleanup()

    def connect(self):
        sock = self.server.connect(IO_TIMEOUT)
        self.addCleanup(sock.close)
        return sock, sock.makefile("rb")


# ---- connection management and framing ----

class ConnectionTests(ServerTestCase):
    """Keep-alive, pipelining, closing; the server's keep-alive timeout is set long (20 s)
    so that a prompt close can only come from the behaviour under test."""

    FLAGS = ("--keep-alive", "20")
    WORKERS = 2

    def test_http11_keeps_the_connection_alive(self):
        sock, f = self.connect()
        for i in range(3):
            sock.sendall(get("/echo_query?n=%d" % i))
            response = read_one_response(f)
            self.assertEqual(response.status, 200)
            self.assertEqual(response.body, b"n=%d" % i)
            self.assertNotEqual((response.header("connection") or "").lower(), "close")

    def test_http10_keep_alive_when_the_client_asks(self):
        sock, f = self.connect()
        for i in range(2):
            sock.sendall(get("/echo_query?n=%d" % i, "HTTP/1.0", ["Connection: keep-alive"]))
            response = read_one_response(f)
            self.assertEqual(response.status, 200)
            self.assertEqual(response.body, b"n=%d" % i)
            self.assertEqual((response.header("connection") or "").lower(), "keep-alive")

    def test_http10_closes_without_keep_alive(self):
        sock, f = self.connect()
        sock.sendall(get("/hello", "HTTP/1.0"))
        response = read_one_response(f)
        self.assertEqual(response.body, b"Hello, World!")
        self.assertTrue(closes_within(sock, f, 5))

    @beyond_gunicorn("gunicorn's gthread worker leaves pipelined requests unread")
    def test_pipelined_requests_are_answered_in_order(self):
        sock, f = self.connect()
        sock.sendall(get("/echo_query?first") + get("/no_length")
                     + get("/echo", method="POST", headers=["Content-Length: 5"], body=b"third"))
        bodies = [read_one_response(f).body for _ in range(3)]
        self.assertEqual(bodies, [b"first", b"part1-part2-part3", b"third"])

    @beyond_gunicorn("gunicorn's gthread worker leaves pipelined requests unread")
    def test_a_hundred_pipelined_requests_in_one_send(self):
        sock, f = self.connect()
        sock.sendall(b"".join(get("/echo_query?%d" % i) for i in range(100)))
        self.assertEqual([read_one_response(f).body for _ in range(100)],
                         [b"%d" % i for i in range(100)])

    @beyond_gunicorn("gunicorn's gthread worker leaves pipelined requests unread")
    def test_reading_past_the_body_does_not_eat_the_next_pipelined_request(self):
        sock, f = self.connect()
        # The app asks read(100) of an 11-byte body; the next request is already buffered.
        sock.sendall(get("/input?op=read_n&n=100", method="POST",
                         headers=["Content-Length: 11"], body=b"hello world")
                     + get("/echo_query?next"))
        self.assertEqual(read_one_response(f).body, b'["hello world", ""]')
        self.assertEqual(read_one_response(f).body, b"next")

    def test_chunked_request_body_with_extensions_and_trailers(self):
        sock, f = self.connect()
        sock.sendall(get("/echo", method="POST", headers=["Transfer-Encoding: chunked"],
                         body=b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
                              b"X-Trailer: one\r\nX-Other: two\r\n\r\n"))
        response = read_one_response(f)
        self.assertEqual((response.status, response.body), (200, b"hello world"))
        # The trailers were consumed as part of the body: the next request parses cleanly.
        sock.sendall(get("/hello"))
        self.assertEqual(read_one_response(f).body, b"Hello, World!")

    def test_response_without_length_is_chunked_on_http11(self):
        sock, f = self.connect()
        sock.sendall(get("/no_length"))
        response = read_one_response(f)
        self.assertEqual(response.header("transfer-encoding"), "chunked")
        self.assertIsNone(response.header("content-length"))
        # The app's empty b"" piece must not have been sent as the terminating 0-chunk.
        self.assertEqual(response.body, b"part1-part2-part3")
        sock.sendall(get("/hello"))
        self.assertEqual(read_one_response(f).body, b"Hello, World!")

    def test_response_without_length_on_http10_is_ended_by_close(self):
        for headers in ([], ["Connection: keep-alive"]):
            with self.subTest(headers=headers):
                sock, f = self.connect()
                sock.sendall(get("/no_length", "HTTP/1.0", headers))
                response = read_one_response(f)
                self.assertIsNone(response.header("transfer-encoding"))
                # Only the close can end this body: promising keep-alive would be a lie.
                self.assertNotEqual((response.header("connection") or "").lower(),
                                    "keep-alive")
                self.assertEqual(response.body, b"part1-part2-part3")  # read to EOF

    @beyond_gunicorn("gunicorn sends 100 Continue before calling the app")
    def test_100_continue_is_sent_when_the_app_first_reads(self):
        sock, f = self.connect()
        sock.sendall(get("/wait_then_read?name=expect", method="POST",
                         headers=["Content-Length: 5", "Expect: 100-continue"]))
        self.assertIsNotNone(wait_for_file(os.path.join(self.dir, "expect.called")))
        # The app runs but has not read wsgi.input yet: nothing may have been sent.
        sock.settimeout(0.3)
        with self.assertRaises((TimeoutError, socket.timeout), msg="sent before the read"):
            sock.recv(1, socket.MSG_PEEK)
        sock.settimeout(IO_TIMEOUT)
        open(os.path.join(self.dir, "expect.go"), "w").close()
        interim = read_one_response(f)
        self.assertEqual(interim.status, 100)
        sock.sendall(b"hello")
        response = read_one_response(f)
        self.assertEqual((response.status, response.body), (200, b"hello"))

    @beyond_gunicorn("gunicorn sends 100 Continue before calling the app")
    def test_no_100_continue_when_the_app_does_not_read(self):
        sock, f = self.connect()
        sock.sendall(get("/no_read", method="POST",
                         headers=["Content-Length: 5", "Expect: 100-continue"]))
        response = read_one_response(f)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, b"answered without reading")
        self.check_close_announced_or_body_skipped(sock, f, response, b"hello")

    def check_close_announced_or_body_skipped(self, sock, f, response, rest_of_body):
        """RFC 9110 10.1.1: a server that answers before reading the whole body says whether
        it will close; if it does not say so, it must read (and discard) the rest of the body
        and serve the next request."""
        if "close" in (response.header("connection") or "").lower():
            self.assertTrue(closes_within(sock, f, 5))
            return
        try:
            sock.sendall(rest_of_body + get("/echo_query?next"))
            self.assertEqual(read_one_response(f).body, b"next")
        except (ConnectionError, BrokenPipeError):
            self.fail("closed after answering without reading the body, but the response "
                      "did not say Connection: close")

    def test_a_large_body_the_app_did_not_read(self):
        # Too large to drain cheaply: closing is fine, as long as the response says so.
        sock, f = self.connect()
        sock.sendall(get("/no_read", method="POST", headers=["Content-Length: 8000000"])
                     + b"x" * 65536)
        response = read_one_response(f)
        self.assertEqual(response.status, 200)
        self.check_close_announced_or_body_skipped(sock, f, response,
                                                   b"x" * (8000000 - 65536))

    def test_a_body_the_app_did_not_read_is_skipped_before_the_next_request(self):
        for framing, body in ((["Content-Length: 11"], b"GET / HTTP/"),
                              (["Transfer-Encoding: chunked"], chunked_body(b"GET / HTTP/"))):
            with self.subTest(framing=framing):
                sock, f = self.connect()
                sock.sendall(get("/no_read", method="POST", headers=framing, body=body))
                self.assertEqual(read_one_response(f).status, 200)
                sock.sendall(get("/echo_query?next"))
                self.assertEqual(read_one_response(f).body, b"next")

    @beyond_gunicorn("gunicorn 20.1 sends the app's body to HEAD")
    def test_head_has_the_headers_but_no_body(self):
        sock, f = self.connect()
        # Each HEAD is followed by a GET on the same connection: a body (or a chunked
        # terminator) after the HEAD response would show up where the next status line is.
        for path, length in (("/hello", "13"), ("/no_length", None),
                             ("/file?size=100000", "100000")):  # file_wrapper: sendfile path
            sock.sendall(get(path, method="HEAD"))
            head = read_one_response(f, head_only=True)
            self.assertEqual(head.status, 200)
            if length:
                self.assertEqual(head.header("content-length"), length)
            sock.sendall(get("/echo_query?after-head"))
            self.assertEqual(read_one_response(f).body, b"after-head")

    def check_no_body(self, code, app_gives_body):
        sock, f = self.connect()
        sock.sendall(get("/status?code=%d&body=%d" % (code, app_gives_body)))
        response = read_one_response(f)
        self.assertEqual(response.status, code)
        self.assertIsNone(response.header("transfer-encoding"))
        self.assertIsNone(response.header("content-length"))
        # Any body bytes would come where the next status line is expected.
        sock.sendall(get("/echo_query?after"))
        self.assertEqual(read_one_response(f).body, b"after")

    def test_204_and_304_carry_no_body(self):
        for code in (204, 304):
            with self.subTest(code=code):
                self.check_no_body(code, app_gives_body=False)

    @beyond_gunicorn("gunicorn 20.1 sends the app's body after a 204/304 head")
    def test_204_and_304_drop_a_body_the_app_gives_anyway(self):
        for code in (204, 304):
            with self.subTest(code=code):
                self.check_no_body(code, app_gives_body=True)

    def test_date_and_server_headers(self):
        response = exchange(self.server, get("/hello"))
        self.assertEqual(len(response.values("date")), 1)
        self.assertIsNotNone(email.utils.parsedate_to_datetime(response.header("date")))
        self.assertEqual(len(response.values("server")), 1)
        self.assertTrue(response.header("server"))

    @beyond_gunicorn("gunicorn 20.1 sends its own Server header as well")
    def test_date_and_server_set_by_the_app_are_not_duplicated(self):
        response = exchange(self.server, get("/own_date_and_server"))
        self.assertEqual(response.values("server"), ["behaviour-app"])
        self.assertEqual(len(response.values("date")), 1)

    def test_connection_close_from_the_client(self):
        sock, f = self.connect()
        sock.sendall(get("/hello", headers=["Connection: close"]))
        response = read_one_response(f)
        self.assertEqual(response.body, b"Hello, World!")
        self.assertEqual((response.header("connection") or "").lower(), "close")
        self.assertTrue(closes_within(sock, f, 5))

    def test_half_closed_client_gets_every_response_then_a_prompt_close(self):
        sock, f = self.connect()
        sock.sendall(get("/echo_query?one") + get("/echo_query?two"))
        sock.shutdown(socket.SHUT_WR)
        self.assertEqual(read_one_response(f).body, b"one")
        self.assertEqual(read_one_response(f).body, b"two")
        # Well before the 20 s keep-alive timeout: the server saw the client's EOF.
        self.assertTrue(closes_within(sock, f, 5))


class IdleKeepAliveTests(ServerTestCase):
    FLAGS = ("--keep-alive", "1")

    def test_idle_connection_is_closed_after_the_keep_alive_timeout(self):
        sock, f = self.connect()
        sock.sendall(get("/hello"))
        self.assertEqual(read_one_response(f).status, 200)
        self.assertTrue(closes_within(sock, f, 8), "idle connection still open after 8 s")


# ---- request limits and strictness ----

# gunicorn spells the last flag --limit-request-field_size.
LIMIT_FLAGS = ("--limit-request-line", "256", "--limit-request-fields", "10",
               "--limit-request-field_size" if ON_GUNICORN else "--limit-request-field-size",
               "256")


class LimitAndStrictnessTests(ServerTestCase):
    # gunicorn 20.1 has no --limit-request-body: its 413 tests are expected failures there.
    FLAGS = LIMIT_FLAGS + (() if ON_GUNICORN else ("--limit-request-body", "1000"))

    def test_request_line_at_the_limit_is_served(self):
        # "GET /echo_query?aaa... HTTP/1.1" is exactly 256 bytes, CRLF not counted.
        query = "a" * (256 - len("GET /echo_query? HTTP/1.1"))
        self.assertEqual(exchange(self.server, get("/echo_query?" + query)).body,
                         query.encode())

    @beyond_gunicorn("gunicorn answers 400")
    def test_request_line_one_over_the_limit_is_414(self):
        query = "a" * (257 - len("GET /echo_query? HTTP/1.1"))
        self.assertEqual(exchange(self.server, get("/echo_query?" + query)).status, 414)

    @beyond_gunicorn("gunicorn answers 400")
    def test_too_many_header_fields_is_431(self):
        headers = ["X-Field-%d: v" % i for i in range(20)]
        self.assertEqual(exchange(self.server, get("/hello", headers=headers)).status, 431)

    @beyond_gunicorn("gunicorn answers 400")
    def test_header_field_over_the_size_limit_is_431(self):
        response = exchange(self.server, get("/hello", headers=["X-Long: " + "a" * 400]))
        self.assertEqual(response.status, 431)

    def test_headers_within_the_limits_are_served(self):
        # Host and 9 more: exactly --limit-request-fields, each well under the size limit.
        headers = ["X-Field-%d: %s" % (i, "v" * 100) for i in range(9)]
        self.assertEqual(exchange(self.server, get("/hello", headers=headers)).status, 200)

    @beyond_gunicorn("gunicorn 20.1 has no --limit-request-body")
    def test_body_over_the_limit_is_answered_413_before_it_is_sent(self):
        sock, f = self.connect()
        sock.sendall(get("/echo", method="POST", headers=["Content-Length: 2000000"])
                     + b"x" * 65536)
        readable, _, _ = select.select([sock], [], [], 5)
        self.assertTrue(readable, "no answer while the client is still sending its body")
        self.assertEqual(read_one_response(f).status, 413)

    @beyond_gunicorn("gunicorn 20.1 has no --limit-request-body")
    def test_413_survives_a_client_that_sends_its_whole_body_first(self):
        # A client that reads only after sending everything: the server must drain (linger)
        # rather than close with unread data, whose RST would destroy the 413 in transit.
        sock, f = self.connect()
        try:
            sock.sendall(get("/echo", method="POST", headers=["Content-Length: 2000000"])
                         + b"x" * 2000000)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close once it has drained enough: the reply must stay
        self.assertEqual(read_one_response(f).status, 413)

    def test_body_at_the_limit_is_served(self):
        response = exchange(self.server, get("/echo", method="POST",
                                             headers=["Content-Length: 1000"], body=b"y" * 1000))
        self.assertEqual((response.status, response.body), (200, b"y" * 1000))

    @beyond_gunicorn("gunicorn 20.1 has no --limit-request-body")
    def test_chunked_body_over_the_limit_is_413(self):
        response = exchange(self.server, get("/echo", method="POST",
                                             headers=["Transfer-Encoding: chunked"],
                                             body=chunked_body(b"z" * 1001, 100)))
        self.assertEqual(response.status, 413)

    def test_content_length_with_chunked_is_400_and_closes(self):
        sock, f = self.connect()
        sock.sendall(get("/echo", method="POST",
                         headers=["Content-Length: 5", "Transfer-Encoding: chunked"],
                         body=b"5\r\nhello\r\n0\r\n\r\n"))
        self.assertEqual(read_one_response(f).status, 400)
        self.assertTrue(closes_within(sock, f, 5))

    def test_differing_duplicate_content_length_is_400(self):
        response = exchange(self.server, get("/echo", method="POST",
                                             headers=["Content-Length: 5", "Content-Length: 6"],
                                             body=b"hello!"))
        self.assertEqual(response.status, 400)

    def test_whitespace_before_the_colon_is_400(self):
        # RFC 9112 5.1: a MUST, as proxies may read "Content-Length :" differently.
        response = exchange(self.server, get("/echo", method="POST",
                                             headers=["Content-Length : 5"], body=b"hello"))
        self.assertEqual(response.status, 400)

    def test_http11_request_without_host_is_served(self):
        # RFC 9112 3.2 wants a 400, but Gunicorn serves it and its users rely on that (the
        # conformance corpus has such a valid case): wsgid follows the corpus.
        response = exchange(self.server, b"GET /hello HTTP/1.1\r\n\r\n")
        self.assertEqual(response.status, 200)

    def test_invalid_content_length_is_400(self):
        for value in ("abc", "-5", "5 5"):
            with self.subTest(content_length=value):
                response = exchange(self.server, get("/echo", method="POST",
                                                     headers=["Content-Length: " + value],
                                                     body=b"hello"))
                self.assertEqual(response.status, 400)

    @beyond_gunicorn("gunicorn 20.1 does not reject it")
    def test_chunked_not_last_transfer_coding_is_400(self):
        response = exchange(self.server, get("/echo", method="POST",
                                             headers=["Transfer-Encoding: chunked, gzip"],
                                             body=b"5\r\nhello\r\n0\r\n\r\n"))
        self.assertEqual(response.status, 400)

    def test_bad_chunk_size_makes_the_app_read_raise(self):
        sock, f = self.connect()
        sock.sendall(get("/read_all_record?name=badchunk", method="POST",
                         headers=["Transfer-Encoding: chunked"],
                         body=b"5\r\nhello\r\nzz\r\nbad\r\n0\r\n\r\n"))
        try:
            status = read_one_response(f).status
        except ConnectionError:
            status = None  # closing without an answer is fine too
        self.assertNotEqual(status, 200)
        outcome = wait_for_file(os.path.join(self.dir, "badchunk.read"))
        self.assertIsNotNone(outcome, "the app was never called or never finished reading")
        self.assertTrue(outcome.startswith("raised:"), outcome)


# ---- what the server checks in the app's response ----

class ResponseCheckTests(ServerTestCase):
    FLAGS = ("--keep-alive", "20")

    @beyond_gunicorn("gunicorn answers 400")
    def test_bad_status_or_header_from_the_app_is_500_without_splitting(self):
        # CR/LF/NUL in a value, in the status line or in a name could split the response;
        # a name that is not a token, a bytes value or a non-latin-1 str breaks PEP 3333.
        for kind in ("crlf", "lf", "nul", "status_crlf", "name_colon", "name_space",
                     "bytes_value", "not_latin1"):
            with self.subTest(kind=kind):
                log_before = len(self.server.log())
                response = exchange(self.server, get("/bad_header?kind=" + kind))
                self.assertEqual(response.status, 500)
                self.assertIsNone(response.header("x-injected"))
                self.assertIsNone(response.header("x-bad"))
                self.assertNotIn(b"must not be sent", response.body)
                log = wait_for_log(self.server, lambda log: "bad_header" in log[log_before:])
                self.assertIn("bad_header", log[log_before:], "the error was not logged")

    def test_hop_by_hop_headers_from_the_app_are_dropped(self):
        sock, f = self.connect()
        sock.sendall(get("/hop_by_hop"))
        response = read_one_response(f)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, b"hop-by-hop body")
        self.assertEqual(response.values("upgrade"), [])
        self.assertNotIn("timeout=999", response.values("keep-alive"))
        self.assertLessEqual(len(response.values("connection")), 1)
        self.assertLessEqual(len(response.values("transfer-encoding")), 1)
        self.assertFalse(response.header("transfer-encoding")
                         and response.header("content-length"),
                         "both Transfer-Encoding and Content-Length: %r" % response)
        sock.sendall(get("/echo_query?after"))
        self.assertEqual(read_one_response(f).body, b"after")

    @beyond_gunicorn("gunicorn keeps the connection open, waiting for nothing")
    def test_body_shorter_than_content_length_closes_after_what_was_sent(self):
        sock, f = self.connect()
        sock.sendall(get("/short_body"))
        response = read_one_response(f)  # Content-Length: 100, reads until EOF
        self.assertEqual(response.header("content-length"), "100")
        self.assertEqual(response.body, b"0123456789")

    def test_body_longer_than_content_length_is_cut_and_the_connection_stays_usable(self):
        sock, f = self.connect()
        sock.sendall(get("/long_body"))
        self.assertEqual(read_one_response(f).body, b"01234")
        sock.sendall(get("/echo_query?after"))
        response = read_one_response(f)
        self.assertEqual((response.status, response.body), (200, b"after"))


# ---- slow and vanishing clients ----

class VanishingClientTests(ServerTestCase):
    def test_client_hanging_up_mid_stream_stops_iteration_and_closes_the_result(self):
        sock = self.server.connect(IO_TIMEOUT)
        try:
            sock.sendall(get("/stream?name=hangup"))
            received = 0
            while received < 256 * 1024:
                data = sock.recv(65536)
                self.assertTrue(data, "server closed the stream early")
                received += len(data)
        finally:
            abort(sock)
        produced = wait_for_file(os.path.join(self.dir, "hangup.closed"))
        self.assertIsNotNone(produced, "result.close() not called after the client left")
        self.assertLess(int(produced), STREAM_CHUNKS)


class SingleThreadTests(ServerTestCase):
    WORKERS = 1
    THREADS = 1
    FLAGS = ("--keep-alive", "30")

    @beyond_gunicorn("gunicorn's sync worker blocks on the slow client")
    def test_half_sent_request_head_does_not_block_other_clients(self):
        slow, slow_f = self.connect()
        slow.sendall(b"GET /echo_query?slow HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        other, other_f = self.connect()
        other.settimeout(5)
        other.sendall(get("/echo_query?other", headers=["Connection: close"]))
        self.assertEqual(read_one_response(other_f).body, b"other")
        # The slow client was not dropped to make room: it can finish and be served.
        self.assertTrue(still_open(slow))
        slow.sendall(b"\r\n")
        self.assertEqual(read_one_response(slow_f).body, b"slow")

    def test_idle_keep_alive_connection_does_not_block_other_clients(self):
        idle, idle_f = self.connect()
        idle.sendall(get("/echo_query?idle"))
        self.assertEqual(read_one_response(idle_f).body, b"idle")
        # idle now waits (keep-alive 30 s) while holding no thread.
        other, other_f = self.connect()
        other.settimeout(5)
        other.sendall(get("/echo_query?other", headers=["Connection: close"]))
        self.assertEqual(read_one_response(other_f).body, b"other")


if __name__ == "__main__":
    unittest.main()
