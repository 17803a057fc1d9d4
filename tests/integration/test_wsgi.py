"""PEP 3333 behaviour of wsgid, against examples/behaviour_app.py over raw sockets.

Covers the environ (every required key, its type and value; --root-path), wsgi.input
(read/readline/readlines/iteration on Content-Length and chunked bodies, a streamed 5 MB
upload), wsgi.errors, start_response rules (exc_info, a second call), the write() callable,
streamed generator results, result.close(), wsgi.file_wrapper (sendfile and a file-like object
without fileno), app exceptions, the access log format atoms, and a run through
wsgiref.validate that must leave no complaint in the error log.

Tests decorated with @beyond_gunicorn test the spec where Debian's gunicorn 20.1 behaves
differently (expected failures with WSGID_TEST_SERVER=gunicorn; see test_http.py). gunicorn
has no --root-path: that test hands it SCRIPT_NAME through its environment instead.
"""
import hashlib
import io
import json
import os
import random
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_http import (APP, IO_TIMEOUT, ON_GUNICORN, ServerTestCase,  # noqa: E402
                       beyond_gunicorn, chunked_body, exchange, get, read_one_response,
                       wait_for_file, wait_for_log)

sys.path.insert(0, harness.EXAMPLES)
from behaviour_app import pattern_bytes  # noqa: E402


def read_head(f):
    """Reads a status line and headers only: (status, {lower-case name: value})."""
    status = int(f.readline().split(b" ")[1])
    headers = {}
    while True:
        line = f.readline().decode("latin-1")
        if line in ("\r\n", ""):
            return status, headers
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()


def read_chunk(f):
    """Reads one chunk of a chunked body; b"" for the last one (trailers consumed)."""
    size = int(f.readline().split(b";")[0], 16)
    if size == 0:
        while f.readline() not in (b"\r\n", b""):
            pass
        return b""
    data = f.read(size)
    f.read(2)
    return data


def read_until_close(sock):
    """Everything the server sends until it closes (bounded by the socket timeout)."""
    data = b""
    while True:
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not piece:
            return data
        data += piece


class EnvironTests(ServerTestCase):
    WORKERS = 2
    THREADS = 4

    def environ_of(self, request):
        response = exchange(self.server, request)
        self.assertEqual(response.status, 200, response)
        return json.loads(response.body)

    def test_required_keys_types_and_values(self):
        with self.server.connect(IO_TIMEOUT) as sock:
            client_port = sock.getsockname()[1]
            # get() sends "Host: 127.0.0.1"; here it carries the port too, so SERVER_PORT
            # has one right answer (the Host-less case has a test of its own).
            request = get("/environ?a=%20b&c=1", method="POST", body=b"hello", headers=[
                "Content-Type: text/plain; charset=utf-8", "Content-Length: 5",
                "X-Dup: one", "X-Dup: two", "User-Agent: behaviour-test/1.0"])
            sock.sendall(request.replace(b"Host: 127.0.0.1\r\n",
                                         b"Host: 127.0.0.1:%d\r\n" % self.server.port))
            response = read_one_response(sock.makefile("rb"))
        env = json.loads(response.body)

        def value(key, type_name="str"):
            self.assertIn(key, env)
            self.assertEqual(env[key]["type"], type_name, key)
            return env[key].get("value")

        self.assertEqual(value("REQUEST_METHOD"), "POST")
        self.assertEqual(value("SCRIPT_NAME"), "")
        self.assertEqual(value("PATH_INFO"), "/environ")
        self.assertEqual(value("QUERY_STRING"), "a=%20b&c=1")  # raw, not decoded
        self.assertEqual(value("CONTENT_TYPE"), "text/plain; charset=utf-8")
        self.assertEqual(value("CONTENT_LENGTH"), "5")
        self.assertTrue(value("SERVER_NAME"))
        self.assertEqual(value("SERVER_PORT"), str(self.server.port))
        self.assertEqual(value("SERVER_PROTOCOL"), "HTTP/1.1")
        self.assertEqual(value("HTTP_HOST"), "127.0.0.1:%d" % self.server.port)
        self.assertEqual(value("HTTP_USER_AGENT"), "behaviour-test/1.0")
        self.assertEqual(value("HTTP_X_DUP"), "one,two")
        self.assertNotIn("HTTP_CONTENT_TYPE", env)  # CGI: only as CONTENT_TYPE
        self.assertNotIn("HTTP_CONTENT_LENGTH", env)
        self.assertEqual(value("REMOTE_ADDR"), "127.0.0.1")
        self.assertEqual(value("REMOTE_PORT"), str(client_port))
        self.assertEqual(value("wsgi.version", "tuple"), [1, 0])
        self.assertEqual(value("wsgi.url_scheme"), "http")
        self.assertIs(value("wsgi.input_terminated", "bool"), True)
        self.assertIs(value("wsgi.multithread", "bool"), True)  # --threads 4
        self.assertIs(value("wsgi.multiprocess", "bool"), True)  # -w 2
        self.assertIs(value("wsgi.run_once", "bool"), False)
        self.assertTrue(set(env["wsgi.input"]["methods"])
                        >= {"read", "readline", "readlines", "__iter__"})
        self.assertTrue(set(env["wsgi.errors"]["methods"]) >= {"write", "writelines", "flush"})
        self.assertTrue(env["wsgi.file_wrapper"]["callable"])
        # CGI variables are native strings (PEP 3333); extensions (with a dot) may be anything.
        for key, described in env.items():
            if "." not in key:
                self.assertEqual(described["type"], "str", key)

    def test_path_info_is_percent_decoded_as_latin1(self):
        env = self.environ_of(get("/environ/caf%C3%A9%20x"))
        self.assertEqual(env["PATH_INFO"]["value"], "/environ/caf\u00c3\u00a9 x")

    def test_server_port_is_the_listening_port_whatever_the_host_header_says(self):
        # CGI (RFC 3875): SERVER_PORT is the port the request came in on; the client's view
        # is in HTTP_HOST, which PEP 3333's URL reconstruction reads first.
        env = self.environ_of(get("/environ"))
        self.assertEqual(env["HTTP_HOST"]["value"], "127.0.0.1")
        self.assertEqual(env["SERVER_PORT"]["value"], str(self.server.port))

    def test_http10_request_without_host(self):
        env = self.environ_of(get("/environ", "HTTP/1.0"))
        self.assertEqual(env["SERVER_PROTOCOL"]["value"], "HTTP/1.0")
        self.assertTrue(env["SERVER_NAME"]["value"])
        self.assertEqual(env["SERVER_PORT"]["value"], str(self.server.port))
        self.assertEqual(env["QUERY_STRING"]["value"], "")
        self.assertNotIn("HTTP_HOST", env)


class RootPathTests(unittest.TestCase):
    def test_root_path_sets_script_name_and_strips_it_from_path_info(self):
        # gunicorn has no --root-path; it takes SCRIPT_NAME from its environment.
        if ON_GUNICORN:
            server = harness.Server(APP, env={"SCRIPT_NAME": "/prefix"})
        else:
            server = harness.Server(APP, "--root-path", "/prefix")
        with server:
            env = json.loads(exchange(server, get("/prefix/environ/x%20y")).body)
        self.assertEqual(env["SCRIPT_NAME"]["value"], "/prefix")
        self.assertEqual(env["PATH_INFO"]["value"], "/environ/x y")


class InputTests(ServerTestCase):
    BODY = b"line one\nline two is longer\n\nlast line without newline"

    def expected_pieces(self, op, n):
        """What each ?op= of /input returns for BODY, computed on an in-memory file."""
        ref = io.BytesIO(self.BODY)
        if op == "readline":
            return list(iter(ref.readline, b"")) + [b""]
        if op == "readline_n":
            return list(iter(lambda: ref.readline(n), b"")) + [b""]
        if op in ("readlines", "iter"):
            return ref.readlines()
        if op == "readline_then_read":
            return [ref.readline(), ref.read()]
        return [self.BODY]

    def check_ops(self, framing_headers, framed_body):
        for op, n in (("read", 0), ("readline", 0), ("readline_n", 5), ("readlines", 0),
                      ("iter", 0), ("readline_then_read", 0), ("read_n", 7)):
            with self.subTest(op=op, n=n):
                response = exchange(self.server, get("/input?op=%s&n=%d" % (op, n),
                                                     method="POST", headers=framing_headers,
                                                     body=framed_body))
                self.assertEqual(response.status, 200, response)
                pieces = [p.encode("latin-1") for p in json.loads(response.body)]
                if op == "read_n":
                    # read(n) returns at most n bytes, b"" only at the end.
                    self.assertEqual(b"".join(pieces), self.BODY)
                    self.assertEqual(pieces[-1], b"")
                    self.assertTrue(all(0 < len(p) <= n for p in pieces[:-1]), pieces)
                else:
                    self.assertEqual(pieces, self.expected_pieces(op, n))

    def test_read_methods_on_a_content_length_body(self):
        self.check_ops(["Content-Length: %d" % len(self.BODY)], self.BODY)

    def test_read_methods_on_a_chunked_body(self):
        # 3-byte chunks: lines straddle chunk boundaries.
        self.check_ops(["Transfer-Encoding: chunked"], chunked_body(self.BODY, 3))

    def test_reading_a_request_without_a_body_returns_nothing_at_once(self):
        # No Content-Length, no chunking: the body is empty and read() must not wait for more.
        for op in ("read", "readline", "readlines", "read_n"):
            with self.subTest(op=op):
                response = exchange(self.server, get("/input?op=%s&n=10" % op))
                self.assertEqual(json.loads(response.body), [] if op == "readlines" else [""])

    def test_chunked_5mb_upload_is_streamed_to_the_app(self):
        data = random.Random(3333).randbytes(5 * 1024 * 1024)
        with self.server.connect(IO_TIMEOUT) as sock:
            sock.sendall(get("/hash_upload?name=upload&chunk=8192", method="POST",
                             headers=["Transfer-Encoding: chunked"]))
            framed = chunked_body(data, 65536)
            half = len(framed) // 2
            sock.sendall(framed[:half])
            # The app reads while the rest of the body has not been sent yet.
            progress = wait_for_file(os.path.join(self.dir, "upload.progress"))
            self.assertIsNotNone(progress, "the app saw no data before the body was complete")
            sock.sendall(framed[half:])
            response = read_one_response(sock.makefile("rb"))
        result = json.loads(response.body)
        self.assertEqual(result["length"], len(data))
        self.assertEqual(result["sha256"], hashlib.sha256(data).hexdigest())
        self.assertLessEqual(result["largest_read"], 8192)


class AppBehaviourTests(ServerTestCase):
    """start_response rules, results, close(), exceptions, wsgi.errors, file_wrapper."""

    FLAGS = ("--keep-alive", "20")

    def closed_record(self, name):
        return wait_for_file(os.path.join(self.dir, name + ".closed"))

    def test_wsgi_errors_write_reaches_the_error_log(self):
        marker = "wsgi-errors-marker-%d" % random.randrange(10**9)
        self.assertEqual(exchange(self.server, get("/errors?msg=" + marker)).status, 200)
        self.assertIn(marker, wait_for_log(self.server, lambda log: marker in log))

    def test_exception_before_start_response_is_500_with_a_logged_traceback(self):
        response = exchange(self.server, get("/raise_before_start"))
        self.assertEqual(response.status, 500)
        self.assertNotIn(b"raised before start_response", response.body)  # no leak to clients
        log = wait_for_log(self.server, lambda log: "raised before start_response" in log)
        self.assertIn("Traceback", log)
        self.assertIn("RuntimeError: behaviour_app: raised before start_response", log)

    def test_second_start_response_without_exc_info_is_an_error(self):
        response = exchange(self.server, get("/start_response_twice"))
        self.assertEqual(response.status, 500)
        self.assertNotIn(b"accepted", response.body)

    @beyond_gunicorn("gunicorn 20.1 keeps the first call's headers too")
    def test_start_response_with_exc_info_before_any_body_replaces_the_response(self):
        response = exchange(self.server, get("/exc_info_before_headers"))
        self.assertEqual((response.status, response.body), (500, b"error page"))
        self.assertIsNone(response.header("x-first"))  # the first headers are gone

    @beyond_gunicorn("gunicorn 20.1 sends the 200 head before checking the item")
    def test_a_str_body_item_is_a_500(self):
        with self.server.connect(IO_TIMEOUT) as sock:
            sock.sendall(get("/yield_str", headers=["Connection: close"]))
            raw = read_until_close(sock)
        self.assertTrue(raw.startswith(b"HTTP/1.1 500 "), raw)
        self.assertNotIn(b"a str, not bytes", raw)

    def test_start_response_with_exc_info_after_headers_reraises(self):
        with self.server.connect(IO_TIMEOUT) as sock:
            sock.sendall(get("/exc_info_after_headers?name=excinfo"))
            raw = read_until_close(sock)
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw[:100])
        self.assertIn(b"reraised:ValueError;", raw)
        self.assertNotIn(b"did not re-raise", raw)
        self.assertEqual(wait_for_file(os.path.join(self.dir, "excinfo.reraised")),
                         "ValueError")
        # The app failed mid-body: the response must not look complete.
        self.assertFalse(raw.endswith(b"0\r\n\r\n"), "truncated body was terminated: %r" % raw)

    def test_write_callable(self):
        response = exchange(self.server, get("/write_callable"))
        self.assertEqual(response.body, b"written-1;written-2;returned")

    def test_generator_output_is_sent_as_it_is_produced(self):
        with self.server.connect(IO_TIMEOUT) as sock:
            f = sock.makefile("rb")
            sock.sendall(get("/slow_gen?name=gen"))
            status, headers = read_head(f)
            self.assertEqual((status, headers.get("transfer-encoding")), (200, "chunked"))
            # The generator is now blocked until gen.go exists: this chunk was not buffered.
            self.assertEqual(read_chunk(f), b"first\n")
            open(os.path.join(self.dir, "gen.go"), "w").close()
            self.assertEqual(read_chunk(f), b"second\n")
            self.assertEqual(read_chunk(f), b"")

    def test_result_close_is_called_after_iteration(self):
        self.assertEqual(exchange(self.server, get("/closing?name=normal")).body,
                         b"one-two-three")
        self.assertEqual(self.closed_record("normal"), "3")

    def test_result_close_is_called_when_iteration_raises(self):
        with self.server.connect(IO_TIMEOUT) as sock:
            sock.sendall(get("/raise_in_iter?name=raising"))
            raw = read_until_close(sock)  # the server must close: the body is incomplete
        self.assertEqual(self.closed_record("raising"), "1")
        self.assertFalse(raw.endswith(b"0\r\n\r\n"), "truncated body was terminated: %r" % raw)

    def test_file_wrapper_serves_files_and_file_likes(self):
        with self.server.connect(IO_TIMEOUT) as sock:
            f = sock.makefile("rb")
            # A real file (sendfile path) of an odd size, then one a little over 3 MB, then
            # a file-like object without fileno(); all on one keep-alive connection.
            for size in (100001, 3 * 1024 * 1024 + 7):
                sock.sendall(get("/file?size=%d" % size))
                response = read_one_response(f)
                self.assertEqual(response.status, 200)
                self.assertEqual(len(response.body), size)
                self.assertTrue(response.body == pattern_bytes(size), "content differs")
            sock.sendall(get("/file?size=70000&mode=nofileno&name=filelike"))
            response = read_one_response(f)
            self.assertTrue(response.body == pattern_bytes(70000), "content differs")
        self.assertEqual(self.closed_record("filelike"), "closed")  # wrapper closed it


class AccessLogTests(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.log_dir = tempfile.TemporaryDirectory(prefix="wsgid-access-")
        cls.access_log = os.path.join(cls.log_dir.name, "access.log")
        cls.FLAGS = ("--access-logfile", cls.access_log, "--access-logformat",
                     '%(h)s "%(r)s" %(s)s %(b)s "%(a)s" %({X-Trace}i)s')
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.log_dir.cleanup()

    def test_one_line_per_request_with_the_atoms_filled(self):
        # A user agent of our own picks our lines out: on a shared machine a stranger may
        # knock on the port too.
        agent = "behaviour-test/%d" % random.randrange(10**9)
        with self.server.connect(IO_TIMEOUT) as sock:
            f = sock.makefile("rb")
            for request in (get("/hello?x=1", headers=["User-Agent: " + agent,
                                                       "X-Trace: trace-1"]),
                            get("/echo", method="POST", body=b"hello",
                                headers=["User-Agent: " + agent, "X-Trace: trace-2",
                                         "Content-Length: 5"]),
                            get("/nope", headers=["User-Agent: " + agent])):
                sock.sendall(request)
                read_one_response(f)
        expected = ['127.0.0.1 "GET /hello?x=1 HTTP/1.1" 200 13 "%s" trace-1' % agent,
                    '127.0.0.1 "POST /echo HTTP/1.1" 200 5 "%s" trace-2' % agent,
                    '127.0.0.1 "GET /nope HTTP/1.1" 404 13 "%s" -' % agent]
        deadline = time.monotonic() + 5
        lines = []
        while time.monotonic() < deadline:
            if os.path.exists(self.access_log):
                with open(self.access_log) as f:
                    lines = [line for line in f.read().splitlines() if agent in line]
                if len(lines) >= len(expected):
                    break
            time.sleep(0.05)
        self.assertEqual(lines, expected)


class ValidatorTests(ServerTestCase):
    FLAGS = ("-e", "WSGI_VALIDATE=1")

    def test_wsgiref_validator_finds_nothing_to_complain_about(self):
        data = b"validated body\nsecond line\n"
        with self.server.connect(IO_TIMEOUT) as sock:
            f = sock.makefile("rb")
            checks = [
                (get("/hello"), lambda r: r.body == b"Hello, World!"),
                (get("/hash_upload?chunk=7", method="POST", body=data,
                     headers=["Content-Length: %d" % len(data), "Content-Type: text/plain"]),
                 lambda r: json.loads(r.body)["length"] == len(data)),
                (get("/input?op=readline_n&n=4", method="POST", body=chunked_body(data, 5),
                     headers=["Transfer-Encoding: chunked"]),
                 lambda r: "".join(json.loads(r.body)) == data.decode()),
                (get("/no_length"), lambda r: r.body == b"part1-part2-part3"),
                (get("/closing?name=validated"), lambda r: r.body == b"one-two-three"),
                (get("/file?size=200000"), lambda r: r.body == pattern_bytes(200000)),
                (get("/environ"), lambda r: json.loads(r.body)["PATH_INFO"]),
            ]
            for request, check in checks:
                sock.sendall(request)
                response = read_one_response(f)
                self.assertEqual(response.status, 200, (request, self.server.log()))
                self.assertTrue(check(response), (request, response))
        # HEAD on a connection of its own, closed after it: gunicorn 20.1 wrongly sends a
        # body to HEAD (test_http.py checks that), which must not derail this test there.
        head = exchange(self.server, get("/hello", method="HEAD", headers=["Connection: close"]),
                        head_only=True)
        self.assertEqual((head.status, head.header("content-length")), (200, "13"))
        self.assertEqual(wait_for_file(os.path.join(self.dir, "validated.closed")), "3")
        log = self.server.log()
        for complaint in ("AssertionError", "WSGIWarning", "Traceback"):
            self.assertNotIn(complaint, log)


if __name__ == "__main__":
    unittest.main()
