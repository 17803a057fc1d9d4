"""A real Django 3.2 project (examples/django_site, DEBUG off, no database) served by wsgid.

Covers a CSRF-protected form round trip, a signed-cookie session, multipart uploads of
several MB, JsonResponse with request JSON, StreamingHttpResponse, FileResponse through
wsgi.file_wrapper (GET and HEAD, which Django leaves to the server to strip), 404, an app
error whose traceback Django logs to stderr (the server's error log), --chdir and
--pythonpath with DJANGO_SETTINGS_MODULE from -e, and concurrent requests on -w 2 --threads 4.

Chunked request bodies are not tested here: Django 3.2 reads CONTENT_LENGTH bytes only and
ignores wsgi.input_terminated, so a chunked upload reaches it empty under any server.
"""
import concurrent.futures
import hashlib
import http.client
import http.cookies
import json
import os
import re
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DJANGO_DIR = os.path.join(harness.EXAMPLES, "django_site")
APP = "examplesite.wsgi:application"
SETTINGS_FLAGS = ("-e", "DJANGO_SETTINGS_MODULE=examplesite.settings")
HTTP_TIMEOUT = 30
# Gunicorn 20.1, the reference server, fails two of these tests through bugs fixed upstream
# later: its sendfile() path ignores HEAD and starts at offset 0 (benoitc/gunicorn#2669).
UNDER_GUNICORN = os.environ.get("WSGID_TEST_SERVER") == "gunicorn"
DOWNLOAD_SIZE = 1024 * 1024 + 4321  # odd size: the last block is a partial one
UPLOAD_SIZE = 5 * 1024 * 1024 + 17


def http_request(server, method, path, body=None, headers=None):
    """One request on a fresh connection: (status, headers message, body)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=HTTP_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.msg, response.read()
    finally:
        conn.close()


def response_cookies(headers):
    """The cookies a response sets, as {name: value}."""
    jar = http.cookies.SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


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
    deadline = time.monotonic() + timeout
    while True:
        log = server.log()
        if all(n in log for n in needles) or time.monotonic() > deadline:
            return log
        time.sleep(0.1)


class DjangoSiteTest(unittest.TestCase):
    """One server for the class: -w 2 --threads 4, --chdir examples/django_site."""

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="wsgid-django-")
        cls.addClassCleanup(tmp.cleanup)
        cls.download_data = os.urandom(DOWNLOAD_SIZE)
        download_path = os.path.join(tmp.name, "download.bin")
        with open(download_path, "wb") as f:
            f.write(cls.download_data)
        cls.server = harness.Server(APP, *SETTINGS_FLAGS,
                                    "-e", "EXAMPLE_DOWNLOAD_FILE=" + download_path,
                                    workers=2, threads=4, chdir=DJANGO_DIR)
        cls.addClassCleanup(cls.server.__exit__, None, None, None)
        cls.server.start()

    def request(self, method, path, body=None, headers=None):
        return http_request(self.server, method, path, body, headers)

    def upload(self, data, filename="blob.bin", description="a test upload"):
        body, content_type = multipart_body({"description": description},
                                            {"file": (filename, data)})
        return self.request("POST", "/upload/", body, {"Content-Type": content_type})

    def test_csrf_protected_form_round_trip(self):
        status, headers, page = self.request("GET", "/")
        self.assertEqual(status, 200, page)
        csrf_cookie = response_cookies(headers).get("csrftoken")
        self.assertTrue(csrf_cookie, "no csrftoken cookie set")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        self.assertIsNotNone(match, page)
        form_token = match.group(1).decode()

        fields = [("name", "Zoë <b>&</b>"), ("comment", "line one\r\nline two = 50% +1"),
                  ("topping", "cheese"), ("topping", "olives")]
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Cookie": "csrftoken=" + csrf_cookie}
        body = urllib.parse.urlencode(fields + [("csrfmiddlewaretoken", form_token)]).encode()
        status, _, page = self.request("POST", "/form/", body, headers)
        self.assertEqual(status, 200, page)
        text = page.decode("utf-8")
        self.assertIn("<dt>name</dt><dd>Zoë &lt;b&gt;&amp;&lt;/b&gt;</dd>", text)
        self.assertIn("<dt>comment</dt><dd>line one\r\nline two = 50% +1</dd>", text)
        self.assertIn("<dt>topping</dt><dd>cheese</dd>", text)
        self.assertIn("<dt>topping</dt><dd>olives</dd>", text)

        # The same post without the form's token is refused by CsrfViewMiddleware.
        status, _, page = self.request("POST", "/form/", urllib.parse.urlencode(fields).encode(),
                                       headers)
        self.assertEqual(status, 403)
        self.assertIn(b"CSRF verification failed", page)

    def test_signed_cookie_session_counts_visits(self):
        cookie = None
        for expected in (1, 2, 3):
            status, headers, body = self.request(
                "GET", "/session/counter/", headers={"Cookie": cookie} if cookie else {})
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["visits"], expected)
            cookie = "sessionid=" + response_cookies(headers)["sessionid"]
        # A tampered cookie fails the signature check: a fresh session.
        status, _, body = self.request("GET", "/session/counter/",
                                       headers={"Cookie": cookie[:-2] + "xx"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["visits"], 1)

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

    def test_json_request_is_echoed_by_json_response(self):
        document = {"text": "héllo ✓", "numbers": [1, 2.5, -3], "nested": {"ok": True,
                                                                         "none": None}}
        status, headers, body = self.request(
            "POST", "/api/echo/", json.dumps(document).encode("utf-8"),
            {"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(int(headers["Content-Length"]), len(body))
        result = json.loads(body)
        self.assertEqual(result["received"], document)
        self.assertEqual(result["content_type"], "application/json")

    def test_request_meta_as_seen_by_django(self):
        status, _, body = self.request("GET", "/api/info/?a=1&a=2&b=%C3%A9")
        self.assertEqual(status, 200, body)
        info = json.loads(body)
        self.assertEqual(info["path"], "/api/info/")
        self.assertEqual(info["path_info"], "/api/info/")
        self.assertEqual(info["query"], {"a": ["1", "2"], "b": ["é"]})
        self.assertEqual(info["host"], "127.0.0.1:%d" % self.server.port)
        self.assertTrue(info["multithread"])
        self.assertTrue(info["multiprocess"])

    def test_disallowed_host_is_rejected_by_django(self):
        # HTTP_HOST reaches Django unchanged, so ALLOWED_HOSTS applies.
        status, _, _ = self.request("GET", "/api/info/", headers={"Host": "evil.example"})
        self.assertEqual(status, 400)

    def test_streaming_http_response_is_reassembled_in_order(self):
        count = 3000
        status, headers, body = self.request("GET", "/stream/?chunks=%d" % count)
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        lines = body.decode("ascii").splitlines()
        self.assertEqual(len(lines), count + 1)
        for index, line in enumerate(lines[:count]):
            expected = "%06d %s" % (index, hashlib.sha256(str(index).encode()).hexdigest())
            self.assertEqual(line, expected)
        self.assertEqual(lines[-1], "end %d" % count)

    def test_file_response_download_is_byte_for_byte(self):
        status, headers, body = self.request("GET", "/download/")
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["Content-Length"]), DOWNLOAD_SIZE)
        self.assertEqual(headers["Content-Type"], "application/octet-stream")
        self.assertIn("payload.bin", headers["Content-Disposition"])
        self.assertEqual(len(body), DOWNLOAD_SIZE)
        self.assertTrue(body == self.download_data, "downloaded bytes differ from the file")

    @unittest.skipIf(UNDER_GUNICORN, "gunicorn 20.1 sendfile()s from offset 0")
    def test_file_response_starts_at_the_files_current_position(self):
        # The view seeks the file before returning it; PEP 3333 says transmission starts
        # there. A sendfile() from offset 0 would send the file's beginning instead.
        offset = 654321
        status, headers, body = self.request("GET", "/download/from/?offset=%d" % offset)
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["Content-Length"]), DOWNLOAD_SIZE - offset)
        self.assertEqual(len(body), DOWNLOAD_SIZE - offset)
        self.assertTrue(body == self.download_data[offset:],
                        "body does not start at the file's position")

    @unittest.skipIf(UNDER_GUNICORN, "gunicorn 20.1 sendfile()s the body of a HEAD response")
    def test_head_of_file_response_has_content_length_and_no_body(self):
        # Django returns the file (via wsgi.file_wrapper) even for HEAD; only the server
        # keeps it off the wire.
        with self.server.connect(timeout=HTTP_TIMEOUT) as sock:
            stream = sock.makefile("rb")
            sock.sendall(b"HEAD /download/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            status, headers, _ = harness.read_response(stream, head_only=True)
            self.assertEqual(status, 200)
            self.assertEqual(int(headers["content-length"]), DOWNLOAD_SIZE)
            if headers.get("connection", "").lower() == "close":
                self.assertEqual(stream.read(), b"", "HEAD response carried a body")
                return
            # Keep-alive: any stray body bytes would be read as the next status line.
            sock.sendall(b"GET /api/info/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Connection: close\r\n\r\n")
            try:
                status, _, body = harness.read_response(stream)
            except (ValueError, IndexError) as error:
                self.fail("the HEAD response carried a body: next status line %s" % error)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["path"], "/api/info/")

    def test_unknown_url_is_404(self):
        status, _, body = self.request("GET", "/no/such/page/")
        self.assertEqual(status, 404)
        self.assertIn(b"Not Found", body)

    def test_app_error_is_500_with_traceback_in_error_log(self):
        status, _, body = self.request("GET", "/error/")
        self.assertEqual(status, 500)
        self.assertIn(b"Server Error (500)", body)
        # settings.LOGGING sends django.request errors to the worker's stderr.
        needles = ["Internal Server Error: /error/", "Traceback (most recent call last)",
                   "RuntimeError: django example: intentional failure for the error-log test"]
        log = wait_for_log(self.server, needles)
        for needle in needles:
            self.assertIn(needle, log)
        self.assertEqual(self.request("GET", "/api/info/")[0], 200)

    def test_twenty_concurrent_uploads_and_downloads(self):
        def upload_job(seed):
            data = hashlib.sha256(b"%d" % seed).digest() * (32 * 1024 + seed)
            status, _, body = self.upload(data, "job%d.bin" % seed)
            self.assertEqual(status, 200, body[:500])
            self.assertEqual(json.loads(body)["sha256"], hashlib.sha256(data).hexdigest())
            return "upload"

        def download_job(_):
            status, _, body = self.request("GET", "/download/")
            self.assertEqual(status, 200)
            self.assertTrue(body == self.download_data, "concurrent download differs")
            return "download"

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            futures = [pool.submit(upload_job if i % 2 else download_job, i)
                       for i in range(20)]
            results = [f.result(timeout=120) for f in futures]
        self.assertEqual(results.count("upload"), 10)
        self.assertEqual(results.count("download"), 10)


class DjangoPythonPathTest(unittest.TestCase):
    """The site found through --pythonpath instead of --chdir."""

    def test_site_served_from_pythonpath(self):
        with harness.Server(APP, "--pythonpath", DJANGO_DIR, *SETTINGS_FLAGS,
                            chdir=harness.EXAMPLES) as server:
            status, _, body = http_request(server, "GET", "/api/info/")
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["path"], "/api/info/")
            status, _, body = http_request(server, "POST", "/api/echo/", b'{"k": [1]}',
                                           {"Content-Type": "application/json"})
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["received"], {"k": [1]})


if __name__ == "__main__":
    unittest.main()
