"""One suite for a real web framework's application served by wsgid: test_flask.py and
test_django.py run it on examples/flask_app.py and examples/django_site.

FrameworkSiteSuite holds the tests both applications answer alike (a form post echoed
escaped, multipart uploads of several MB, JSON in and out, the environ as the framework sees
it, a streamed response, a file download through wsgi.file_wrapper, GET and HEAD, 404, an app
error logged through the error log, and concurrent requests on -w 2 --threads 4). A subclass
(also a unittest.TestCase) says where the app differs through class attributes and a few
hooks, and adds its own tests. AlternateEntryPointSuite starts the app another way (a factory
call, --pythonpath) and asks it two things.

Neither class is a TestCase itself, so the loader collects only the subclasses.
"""
import concurrent.futures
import hashlib
import http.client
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HTTP_TIMEOUT = 30
DOWNLOAD_SIZE = 1024 * 1024 + 4321  # odd size: the last block is a partial one
UPLOAD_SIZE = 5 * 1024 * 1024 + 17
# The fields of the form tests: markup to escape, CR LF, a repeated name.
FORM_FIELDS = [("name", "Zoë <b>&</b>"), ("comment", "line one\r\nline two = 50% +1"),
               ("topping", "cheese"), ("topping", "olives")]


def http_request(server, method, path, body=None, headers=None):
    """One request on a fresh connection: (status, headers message, body). The headers
    message (http.client.HTTPMessage) looks names up case-insensitively."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=HTTP_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.msg, response.read()
    finally:
        conn.close()


def multipart_body(fields, files):
    """Encodes multipart/form-data: fields {name: str}, files {name: (filename, bytes)}."""
    boundary = "wsgid-test-" + os.urandom(12).hex()
    parts = []
    for name, value in fields.items():
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                      % (boundary, name)).encode() + value.encode("utf-8") + b"\r\n")
    for name, (filename, data) in files.items():
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                      "Content-Type: application/octet-stream\r\n\r\n"
                      % (boundary, name, filename)).encode() + data + b"\r\n")
    parts.append(("--%s--\r\n" % boundary).encode())
    return b"".join(parts), "multipart/form-data; boundary=" + boundary


def wait_for_log(server, needles, timeout=10):
    """Polls the server log until it contains every needle; returns the log."""
    return harness.wait_for_log(server, lambda log: all(n in log for n in needles), timeout)


class FrameworkSiteSuite:
    """The shared tests, on one server for the class: -w 2 --threads 4.

    A subclass sets:
      APP, SERVER_FLAGS, CHDIR      what the server runs (harness.Server's app, flags, chdir)
      SLASH                         "/" when the app's URLs end with one (Django), else ""
      JSON_CONTENT_TYPE             the Content-Type of the JSON request
      ERROR_BODY, ERROR_LOG_NEEDLES what /error answers, and what the error log then holds
      HEAD_SKIP_REASON              why the HEAD test cannot pass on the server under test,
                                    or None (a reference server's known bug)
    and defines post_form(fields) -> (status, page) and check_info(info)."""

    APP = None
    SERVER_FLAGS = ()
    CHDIR = harness.EXAMPLES
    SLASH = ""
    JSON_CONTENT_TYPE = "application/json"
    ERROR_BODY = b""
    ERROR_LOG_NEEDLES = ()
    HEAD_SKIP_REASON = None

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="wsgid-framework-")
        cls.addClassCleanup(tmp.cleanup)
        cls.download_data = os.urandom(DOWNLOAD_SIZE)
        download_path = os.path.join(tmp.name, "download.bin")
        with open(download_path, "wb") as f:
            f.write(cls.download_data)
        cls.server = harness.Server(cls.APP, *cls.SERVER_FLAGS,
                                    "-e", "EXAMPLE_DOWNLOAD_FILE=" + download_path,
                                    workers=2, threads=4, chdir=cls.CHDIR)
        cls.addClassCleanup(cls.server.__exit__, None, None, None)
        cls.server.start()

    def url(self, path, query=""):
        """The app's URL for path: with the trailing slash its routes use, then ?query."""
        return path + self.SLASH + ("?" + query if query else "")

    def request(self, method, path, body=None, headers=None):
        return http_request(self.server, method, path, body, headers)

    def upload(self, data, filename="blob.bin", description="a test upload"):
        body, content_type = multipart_body({"description": description},
                                            {"file": (filename, data)})
        return self.request("POST", self.url("/upload"), body, {"Content-Type": content_type})

    def test_form_post_is_echoed_escaped(self):
        status, page = self.post_form(FORM_FIELDS)
        self.assertEqual(status, 200, page)
        text = page.decode("utf-8")
        self.assertIn("<dt>name</dt><dd>Zoë &lt;b&gt;&amp;&lt;/b&gt;</dd>", text)
        self.assertIn("<dt>comment</dt><dd>line one\r\nline two = 50% +1</dd>", text)
        self.assertIn("<dt>topping</dt><dd>cheese</dd>", text)
        self.assertIn("<dt>topping</dt><dd>olives</dd>", text)

    def test_multipart_upload_with_content_length(self):
        data = os.urandom(UPLOAD_SIZE)
        status, headers, body = self.upload(data, "photo.raw", "größe")
        self.assertEqual(status, 200, body[:500])
        self.assertEqual(headers["Content-Type"], "application/json")
        result = json.loads(body)
        self.assertEqual(result["size"], len(data))
        self.assertEqual(result["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(result["filename"], "photo.raw")
        self.assertEqual(result["description"], "größe")

    def test_json_request_is_echoed(self):
        document = {"text": "héllo ✓", "numbers": [1, 2.5, -3], "nested": {"ok": True,
                                                                         "none": None}}
        status, headers, body = self.request(
            "POST", self.url("/api/echo"), json.dumps(document).encode("utf-8"),
            {"Content-Type": self.JSON_CONTENT_TYPE})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(int(headers["Content-Length"]), len(body))
        result = json.loads(body)
        self.assertEqual(result["received"], document)
        self.assertEqual(result["content_type"], self.JSON_CONTENT_TYPE)

    def test_environ_as_seen_by_the_framework(self):
        status, _, body = self.request("GET", self.url("/api/info", "a=1&a=2&b=%C3%A9"))
        self.assertEqual(status, 200, body)
        info = json.loads(body)
        self.assertEqual(info["path"], self.url("/api/info"))
        self.assertEqual(info["query"], {"a": ["1", "2"], "b": ["é"]})
        # PEP 3333: true when the app may be called by another thread/process at once,
        # which is the case with --threads 4 and -w 2.
        self.assertTrue(info["multithread"])
        self.assertTrue(info["multiprocess"])
        self.check_info(info)

    def test_streamed_response_is_reassembled_in_order(self):
        count = 3000
        status, headers, body = self.request("GET", self.url("/stream", "chunks=%d" % count))
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        lines = body.decode("ascii").splitlines()
        self.assertEqual(len(lines), count + 1)
        for index, line in enumerate(lines[:count]):
            expected = "%06d %s" % (index, hashlib.sha256(str(index).encode()).hexdigest())
            self.assertEqual(line, expected)
        # The last line is produced after the loop: the generator ran to the end (Flask:
        # with its request context, which it reads request.args from, still alive).
        self.assertEqual(lines[-1], "end %d" % count)

    def test_file_download_is_byte_for_byte(self):
        status, headers, body = self.request("GET", self.url("/download"))
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["Content-Length"]), DOWNLOAD_SIZE)
        self.assertEqual(headers["Content-Type"], "application/octet-stream")
        self.assertIn("payload.bin", headers["Content-Disposition"])
        self.assertEqual(len(body), DOWNLOAD_SIZE)
        self.assertTrue(body == self.download_data, "downloaded bytes differ from the file")

    def test_head_of_download_has_content_length_and_no_body(self):
        # The app returns the file (via wsgi.file_wrapper) even for HEAD (Django always);
        # only the server keeps it off the wire.
        if self.HEAD_SKIP_REASON:
            self.skipTest(self.HEAD_SKIP_REASON)
        with self.server.connect(timeout=HTTP_TIMEOUT) as sock:
            stream = sock.makefile("rb")
            sock.sendall(b"HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                         % self.url("/download").encode())
            status, headers, _ = harness.read_response(stream, head_only=True)
            self.assertEqual(status, 200)
            self.assertEqual(int(headers["content-length"]), DOWNLOAD_SIZE)
            if headers.get("connection", "").lower() == "close":
                self.assertEqual(stream.read(), b"", "HEAD response carried a body")
                return
            # Keep-alive: any stray body bytes would be read as the next status line.
            sock.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                         % self.url("/api/info").encode())
            try:
                status, _, body = harness.read_response(stream)
            except (ValueError, IndexError) as error:
                self.fail("the HEAD response carried a body: next status line %s" % error)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["path"], self.url("/api/info"))

    def test_unknown_url_is_404(self):
        status, _, body = self.request("GET", self.url("/no/such/page"))
        self.assertEqual(status, 404)
        self.assertIn(b"Not Found", body)

    def test_app_error_is_500_with_traceback_in_error_log(self):
        status, _, body = self.request("GET", self.url("/error"))
        self.assertEqual(status, 500)
        self.assertIn(self.ERROR_BODY, body)
        log = wait_for_log(self.server, self.ERROR_LOG_NEEDLES)
        for needle in self.ERROR_LOG_NEEDLES:
            self.assertIn(needle, log)
        # The server survives it.
        self.assertEqual(self.request("GET", self.url("/api/info"))[0], 200)

    def test_twenty_concurrent_uploads_and_downloads(self):
        def upload_job(seed):
            data = hashlib.sha256(b"%d" % seed).digest() * (32 * 1024 + seed)
            status, _, body = self.upload(data, "job%d.bin" % seed)
            self.assertEqual(status, 200, body[:500])
            self.assertEqual(json.loads(body)["sha256"], hashlib.sha256(data).hexdigest())
            return "upload"

        def download_job(_):
            status, _, body = self.request("GET", self.url("/download"))
            self.assertEqual(status, 200)
            self.assertTrue(body == self.download_data, "concurrent download differs")
            return "download"

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            futures = [pool.submit(upload_job if i % 2 else download_job, i)
                       for i in range(20)]
            results = [f.result(timeout=120) for f in futures]
        self.assertEqual(results.count("upload"), 10)
        self.assertEqual(results.count("download"), 10)


class AlternateEntryPointSuite:
    """The app started another way (APP, FLAGS, CHDIR) answers /api/info and echoes
    ECHO_BODY (JSON) back as ECHO_EXPECTED from /api/echo; SLASH as above."""

    APP = None
    FLAGS = ()
    CHDIR = harness.EXAMPLES
    SLASH = ""
    ECHO_BODY = b""
    ECHO_EXPECTED = None

    def test_app_started_this_way_serves_requests(self):
        info, echo = "/api/info" + self.SLASH, "/api/echo" + self.SLASH
        with harness.Server(self.APP, *self.FLAGS, chdir=self.CHDIR) as server:
            status, _, body = http_request(server, "GET", info)
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["path"], info)
            status, _, body = http_request(server, "POST", echo, self.ECHO_BODY,
                                           {"Content-Type": "application/json"})
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["received"], self.ECHO_EXPECTED)
