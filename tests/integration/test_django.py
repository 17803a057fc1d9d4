"""A real Django 3.2 project (examples/django_site, DEBUG off, no database) served by wsgid.

The shared framework suite (framework_suite.py: the form post, here through the CSRF
round trip, multipart uploads of several MB, JsonResponse with request JSON,
StreamingHttpResponse, FileResponse through wsgi.file_wrapper with GET and HEAD, which Django
leaves to the server to strip, 404, an app error whose traceback Django logs to stderr (the
server's error log), concurrent requests on -w 2 --threads 4), plus what is Django's own
here: a post without the CSRF token refused, a signed-cookie session, ALLOWED_HOSTS, a
FileResponse of a file seeked first, and --pythonpath instead of --chdir, with
DJANGO_SETTINGS_MODULE from -e.

Chunked request bodies are not tested here: Django 3.2 reads CONTENT_LENGTH bytes only and
ignores wsgi.input_terminated, so a chunked upload reaches it empty under any server.
"""
import http.cookies
import json
import os
import re
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from framework_suite import (DOWNLOAD_SIZE, FORM_FIELDS,  # noqa: E402
                             AlternateEntryPointSuite, FrameworkSiteSuite)

DJANGO_DIR = os.path.join(harness.EXAMPLES, "django_site")
APP = "examplesite.wsgi:application"
SETTINGS_FLAGS = ("-e", "DJANGO_SETTINGS_MODULE=examplesite.settings")
# Gunicorn 20.1, the reference server, fails two of these tests through bugs fixed upstream
# later: its sendfile() path ignores HEAD and starts at offset 0 (benoitc/gunicorn#2669).
UNDER_GUNICORN = harness.UNDER_GUNICORN


def response_cookies(headers):
    """The cookies a response sets, as {name: value}."""
    jar = http.cookies.SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


class DjangoSiteTest(FrameworkSiteSuite, unittest.TestCase):
    """One server for the class: -w 2 --threads 4, --chdir examples/django_site."""

    APP = APP
    SERVER_FLAGS = SETTINGS_FLAGS
    CHDIR = DJANGO_DIR
    SLASH = "/"
    ERROR_BODY = b"Server Error (500)"
    # settings.LOGGING sends django.request errors to the worker's stderr.
    ERROR_LOG_NEEDLES = (
        "Internal Server Error: /error/", "Traceback (most recent call last)",
        "RuntimeError: django example: intentional failure for the error-log test")
    HEAD_SKIP_REASON = ("gunicorn 20.1 sendfile()s the body of a HEAD response"
                        if UNDER_GUNICORN else None)

    def csrf_tokens(self):
        """GET / : (the csrftoken cookie, the form's csrfmiddlewaretoken)."""
        status, headers, page = self.request("GET", "/")
        self.assertEqual(status, 200, page)
        csrf_cookie = response_cookies(headers).get("csrftoken")
        self.assertTrue(csrf_cookie, "no csrftoken cookie set")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        self.assertIsNotNone(match, page)
        return csrf_cookie, match.group(1).decode()

    def form_headers(self, csrf_cookie):
        return {"Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "csrftoken=" + csrf_cookie}

    def post_form(self, fields):
        csrf_cookie, form_token = self.csrf_tokens()
        body = urllib.parse.urlencode(fields + [("csrfmiddlewaretoken", form_token)]).encode()
        status, _, page = self.request("POST", "/form/", body, self.form_headers(csrf_cookie))
        return status, page

    def check_info(self, info):
        self.assertEqual(info["path_info"], "/api/info/")
        self.assertEqual(info["host"], "127.0.0.1:%d" % self.server.port)

    def test_a_post_without_the_forms_csrf_token_is_refused(self):
        # The form's post with the cookie but without the form's token: CsrfViewMiddleware.
        csrf_cookie, _ = self.csrf_tokens()
        status, _, page = self.request("POST", "/form/",
                                       urllib.parse.urlencode(FORM_FIELDS).encode(),
                                       self.form_headers(csrf_cookie))
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

    def test_disallowed_host_is_rejected_by_django(self):
        # HTTP_HOST reaches Django unchanged, so ALLOWED_HOSTS applies.
        status, _, _ = self.request("GET", "/api/info/", headers={"Host": "evil.example"})
        self.assertEqual(status, 400)

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


class DjangoPythonPathTest(AlternateEntryPointSuite, unittest.TestCase):
    """The site found through --pythonpath instead of --chdir."""

    APP = APP
    FLAGS = ("--pythonpath", DJANGO_DIR) + SETTINGS_FLAGS
    SLASH = "/"
    ECHO_BODY = b'{"k": [1]}'
    ECHO_EXPECTED = {"k": [1]}


if __name__ == "__main__":
    unittest.main()
