"""A real Flask 2.2 application (examples/flask_app.py) served by wsgid.

Covers what Flask/Werkzeug needs from the server: urlencoded form posts, multipart uploads
of several MB with Content-Length and chunked (which Werkzeug reads only when the server sets
wsgi.input_terminated), jsonify and request JSON, a stream_with_context generator, send_file
through wsgi.file_wrapper (GET, HEAD, Range), 404, an app error logged through wsgi.errors,
the `module:factory()` form, and concurrent requests on -w 2 --threads 4.
"""
import concurrent.futures
import hashlib
import http.client
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HTTP_TIMEOUT = 30
DOWNLOAD_SIZE = 1024 * 1024 + 4321  # odd size: the last block is a partial one
UPLOAD_SIZE = 5 * 1024 * 1024 + 17


def http_request(server, method, path, body=None, headers=None):
    """One request on a fresh connection: (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=HTTP_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
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


def chunked_pieces(data, sizes):
    """Splits data into chunks cycling through sizes (uneven on purpose)."""
    pieces, offset, i = [], 0, 0
    while offset < len(data):
        size = sizes[i % len(sizes)]
        pieces.append(data[offset:offset + size])
        offset += size
        i += 1
    return pieces


def wait_for_log(server, needles, timeout=10):
    """Polls the server log until it contains every needle; returns the log."""
    deadline = time.monotonic() + timeout
    while True:
        log = server.log()
        if all(n in log for n in needles) or time.monotonic() > deadline:
            return log
        time.sleep(0.1)


class FlaskAppTest(unittest.TestCase):
    """One server for the class: -w 2 --threads 4, serving flask_app:app."""

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="wsgid-flask-")
        cls.addClassCleanup(tmp.cleanup)
        cls.download_data = os.urandom(DOWNLOAD_SIZE)
        download_path = os.path.join(tmp.name, "download.bin")
        with open(download_path, "wb") as f:
            f.write(cls.download_data)
        cls.server = harness.Server("flask_app:app", "-e",
                                    "EXAMPLE_DOWNLOAD_FILE=" + download_path,
                                    workers=2, threads=4)
        cls.addClassCleanup(cls.server.__exit__, None, None, None)
        cls.server.start()

    def request(self, method, path, body=None, headers=None):
        return http_request(self.server, method, path, body, headers)

    def upload(self, data, filename="blob.bin", description="a test upload"):
        body, content_type = multipart_body({"description": description},
                                            {"file": (filename, data)})
        return self.request("POST", "/upload", body, {"Content-Type": content_type})

    def test_form_page_then_urlencoded_post_is_echoed_escaped(self):
        status, headers, page = self.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        self.assertIn(b'action="/form"', page)

        fields = [("name", "Zoë <b>&</b>"), ("comment", "line one\r\nline two = 50% +1"),
                  ("topping", "cheese"), ("topping", "olives")]
        status, headers, page = self.request(
            "POST", "/form", urllib.parse.urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
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
        self.assertEqual(headers["content-type"], "application/json")
        result = json.loads(body)
        self.assertEqual(result["size"], len(data))
        self.assertEqual(result["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(result["filename"], "photo.raw")
        self.assertEqual(result["description"], "größe")

    def test_multipart_upload_with_chunked_transfer_encoding(self):
        # No Content-Length: Werkzeug reads the body only if wsgi.input_terminated is set,
        # else it sees an empty form and the app answers 400.
        data = os.urandom(UPLOAD_SIZE)
        body, content_type = multipart_body({"description": "chunked"},
                                            {"file": ("chunked.bin", data)})
        with self.server.connect(timeout=HTTP_TIMEOUT) as sock:
            sock.sendall(("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: %s\r\nTransfer-Encoding: chunked\r\n"
                          "Connection: close\r\n\r\n" % content_type).encode())
            for piece in chunked_pieces(body, [1, 4093, 65536, 300000, 17]):
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sock.sendall(b"0\r\n\r\n")
            status, headers, response = harness.read_response(sock)
        self.assertEqual(status, 200, response[:500])
        result = json.loads(response)
        self.assertEqual(result["size"], len(data))
        self.assertEqual(result["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(result["description"], "chunked")

    def test_json_request_is_echoed_by_jsonify(self):
        document = {"text": "héllo ✓", "numbers": [1, 2.5, -3], "nested": {"ok": True,
                                                                         "none": None}}
        status, headers, body = self.request(
            "POST", "/api/echo", json.dumps(document).encode("utf-8"),
            {"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(int(headers["content-length"]), len(body))
        result = json.loads(body)
        self.assertEqual(result["received"], document)
        self.assertEqual(result["content_type"], "application/json; charset=utf-8")

    def test_environ_as_seen_by_flask(self):
        status, _, body = self.request("GET", "/api/info?a=1&a=2&b=%C3%A9")
        self.assertEqual(status, 200, body)
        info = json.loads(body)
        self.assertEqual(info["path"], "/api/info")
        self.assertEqual(info["query"], {"a": ["1", "2"], "b": ["é"]})
        self.assertEqual(info["wsgi_version"], [1, 0])
        # PEP 3333: true when the app may be called by another thread/process at once,
        # which is the case with --threads 4 and -w 2.
        self.assertTrue(info["multithread"])
        self.assertTrue(info["multiprocess"])

    def test_streamed_generator_response_is_reassembled_in_order(self):
        count = 3000
        status, headers, body = self.request("GET", "/stream?chunks=%d" % count)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        lines = body.decode("ascii").splitlines()
        self.assertEqual(len(lines), count + 1)
        for index, line in enumerate(lines[:count]):
            expected = "%06d %s" % (index, hashlib.sha256(str(index).encode()).hexdigest())
            self.assertEqual(line, expected)
        # The last line is produced after the loop: the generator ran to the end, with
        # its request context (it reads request.args) still alive.
        self.assertEqual(lines[-1], "end %d" % count)

    def test_send_file_download_is_byte_for_byte(self):
        status, headers, body = self.request("GET", "/download")
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["content-length"]), DOWNLOAD_SIZE)
        self.assertEqual(headers["content-type"], "application/octet-stream")
        self.assertIn("payload.bin", headers["content-disposition"])
        self.assertEqual(len(body), DOWNLOAD_SIZE)
        self.assertTrue(body == self.download_data, "downloaded bytes differ from the file")

    def test_head_of_download_has_content_length_and_no_body(self):
        with self.server.connect(timeout=HTTP_TIMEOUT) as sock:
            stream = sock.makefile("rb")
            sock.sendall(b"HEAD /download HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            status, headers, _ = harness.read_response(stream, head_only=True)
            self.assertEqual(status, 200)
            self.assertEqual(int(headers["content-length"]), DOWNLOAD_SIZE)
            if headers.get("connection", "").lower() == "close":
                self.assertEqual(stream.read(), b"", "HEAD response carried a body")
                return
            # Keep-alive: any stray body bytes would be read as the next status line.
            sock.sendall(b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Connection: close\r\n\r\n")
            try:
                status, _, body = harness.read_response(stream)
            except (ValueError, IndexError) as error:
                self.fail("the HEAD response carried a body: next status line %s" % error)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["path"], "/api/info")

    def test_range_requests_on_send_file(self):
        # Werkzeug answers a Range by wrapping the file_wrapper object: a server that
        # sendfile()s the underlying file regardless would send the wrong bytes.
        status, headers, body = self.request("GET", "/download",
                                             headers={"Range": "bytes=1000-2999"})
        self.assertEqual(status, 206)
        self.assertEqual(headers["content-range"], "bytes 1000-2999/%d" % DOWNLOAD_SIZE)
        self.assertEqual(body, self.download_data[1000:3000])

        start = DOWNLOAD_SIZE // 2 + 1
        status, headers, body = self.request("GET", "/download",
                                             headers={"Range": "bytes=%d-" % start})
        self.assertEqual(status, 206)
        self.assertEqual(int(headers["content-length"]), DOWNLOAD_SIZE - start)
        self.assertTrue(body == self.download_data[start:], "range body differs")

    def test_unknown_route_is_404(self):
        status, headers, body = self.request("GET", "/no/such/page")
        self.assertEqual(status, 404)
        self.assertIn(b"Not Found", body)

    def test_app_error_is_500_with_traceback_in_error_log(self):
        status, _, body = self.request("GET", "/error")
        self.assertEqual(status, 500)
        self.assertIn(b"Internal Server Error", body)
        # Flask logs the exception to environ["wsgi.errors"], which is the error log.
        needles = ["Traceback (most recent call last)",
                   "RuntimeError: flask example: intentional failure for the error-log test"]
        log = wait_for_log(self.server, needles)
        for needle in needles:
            self.assertIn(needle, log)
        # The server survives it.
        self.assertEqual(self.request("GET", "/api/info")[0], 200)

    def test_twenty_concurrent_uploads_and_downloads(self):
        def upload_job(seed):
            data = hashlib.sha256(b"%d" % seed).digest() * (32 * 1024 + seed)
            status, _, body = self.upload(data, "job%d.bin" % seed)
            self.assertEqual(status, 200, body[:500])
            self.assertEqual(json.loads(body)["sha256"], hashlib.sha256(data).hexdigest())
            return "upload"

        def download_job(_):
            status, _, body = self.request("GET", "/download")
            self.assertEqual(status, 200)
            self.assertTrue(body == self.download_data, "concurrent download differs")
            return "download"

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            futures = [pool.submit(upload_job if i % 2 else download_job, i)
                       for i in range(20)]
            results = [f.result(timeout=120) for f in futures]
        self.assertEqual(results.count("upload"), 10)
        self.assertEqual(results.count("download"), 10)


class FlaskFactoryTest(unittest.TestCase):
    """`flask_app:create_app()`: the server calls the factory to get the application."""

    def test_factory_application_serves_requests(self):
        with harness.Server("flask_app:create_app()") as server:
            status, _, body = http_request(server, "GET", "/api/info")
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["path"], "/api/info")
            status, _, body = http_request(server, "POST", "/api/echo", b"[1, 2, 3]",
                                           {"Content-Type": "application/json"})
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["received"], [1, 2, 3])


if __name__ == "__main__":
    unittest.main()
