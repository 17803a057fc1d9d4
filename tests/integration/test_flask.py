"""A real Flask 2.2 application (examples/flask_app.py) served by wsgid.

The shared framework suite (framework_suite.py: form posts, multipart uploads of several
MB, jsonify and request JSON, a stream_with_context generator, send_file through
wsgi.file_wrapper with GET and HEAD, 404, an app error logged through wsgi.errors,
concurrent requests on -w 2 --threads 4), plus what is Flask's own here: a multipart upload
sent chunked (which Werkzeug reads only when the server sets wsgi.input_terminated), Range
requests on send_file, and the `module:factory()` form.
"""
import hashlib
import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from framework_suite import (DOWNLOAD_SIZE, HTTP_TIMEOUT, UPLOAD_SIZE,  # noqa: E402
                             AlternateEntryPointSuite, FrameworkSiteSuite, multipart_body)


def chunked_pieces(data, sizes):
    """Splits data into chunks cycling through sizes (uneven on purpose)."""
    pieces, offset, i = [], 0, 0
    while offset < len(data):
        size = sizes[i % len(sizes)]
        pieces.append(data[offset:offset + size])
        offset += size
        i += 1
    return pieces


class FlaskAppTest(FrameworkSiteSuite, unittest.TestCase):
    """One server for the class: -w 2 --threads 4, serving flask_app:app."""

    APP = "flask_app:app"
    JSON_CONTENT_TYPE = "application/json; charset=utf-8"
    ERROR_BODY = b"Internal Server Error"
    # Flask logs the exception to environ["wsgi.errors"], which is the error log.
    ERROR_LOG_NEEDLES = (
        "Traceback (most recent call last)",
        "RuntimeError: flask example: intentional failure for the error-log test")

    def post_form(self, fields):
        status, headers, page = self.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn(b'action="/form"', page)
        status, _, page = self.request(
            "POST", "/form", urllib.parse.urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        return status, page

    def check_info(self, info):
        self.assertEqual(info["wsgi_version"], [1, 0])

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

    def test_range_requests_on_send_file(self):
        # Werkzeug answers a Range by wrapping the file_wrapper object: a server that
        # sendfile()s the underlying file regardless would send the wrong bytes.
        status, headers, body = self.request("GET", "/download",
                                             headers={"Range": "bytes=1000-2999"})
        self.assertEqual(status, 206)
        self.assertEqual(headers["Content-Range"], "bytes 1000-2999/%d" % DOWNLOAD_SIZE)
        self.assertEqual(body, self.download_data[1000:3000])

        start = DOWNLOAD_SIZE // 2 + 1
        status, headers, body = self.request("GET", "/download",
                                             headers={"Range": "bytes=%d-" % start})
        self.assertEqual(status, 206)
        self.assertEqual(int(headers["Content-Length"]), DOWNLOAD_SIZE - start)
        self.assertTrue(body == self.download_data[start:], "range body differs")


class FlaskFactoryTest(AlternateEntryPointSuite, unittest.TestCase):
    """`flask_app:create_app()`: the server calls the factory to get the application."""

    APP = "flask_app:create_app()"
    ECHO_BODY = b"[1, 2, 3]"
    ECHO_EXPECTED = [1, 2, 3]


if __name__ == "__main__":
    unittest.main()
