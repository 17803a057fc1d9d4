"""deploy/nginx/wsgid.conf in front of a live wsgid, with Debian's nginx.

The deploy file is used as shipped except for its paths and ports (rewritten to a temp dir
and free loopback ports, each rewrite asserted to apply): nginx terminates TLS with a
throw-away certificate, serves /static/ from disk and proxies the rest over a UNIX socket to
wsgid started with --forwarded-allow-ips '*' (a UNIX peer has no address, and wsgid trusts a
UNIX peer's X-Forwarded-* only with '*': worker/wsgi_handler.cc IsTrustedProxy). The client
connects from 127.0.0.2, so REMOTE_ADDR == 127.0.0.2 can only come from X-Forwarded-For.
"""
import http.client
import json
import os
import sys
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEPLOY_CONF = os.path.join(harness.REPO, "deploy", "nginx", "wsgid.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl")
CLIENT_ADDR = "127.0.0.2"  # a loopback address other than nginx's, to tell them apart

APP = '''
import json, os

def app(environ, start_response):
    with open(os.environ["CALLS_FILE"], "a") as f:
        f.write(environ.get("PATH_INFO", "") + "\\n")
    body = json.dumps({
        "from": "wsgid-app",
        "pid": os.getpid(),
        "path": environ.get("PATH_INFO"),
        "url_scheme": environ["wsgi.url_scheme"],
        "remote_addr": environ.get("REMOTE_ADDR"),
        "host": environ.get("HTTP_HOST"),
        "x_forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
'''

STATIC_BODY = b"static file served by nginx\n"


def rewrite(text, old, new):
    """Replaces old with new, failing loudly when the deploy file no longer has old."""
    if old not in text:
        raise AssertionError("deploy/nginx/wsgid.conf no longer contains %r" % old)
    return text.replace(old, new)


def unix_request(path, sock_path, headers):
    """GET path over a UNIX socket; returns the decoded JSON body."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(sock_path)
        head = "GET %s HTTP/1.1\r\nHost: app\r\nConnection: close\r\n" % path
        head += "".join("%s: %s\r\n" % kv for kv in headers.items())
        s.sendall((head + "\r\n").encode())
        status, _, body = harness.read_response(s)
    assert status == 200, status
    return json.loads(body)


def wait_for_unix_socket(path, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            unix_request("/__ping", path, {})
            return True
        except (OSError, AssertionError):
            time.sleep(0.05)
    return False


class NginxFrontTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A missing nginx or openssl fails the class (make setup installs them).
        harness.require_tool(NGINX, "Debian: nginx-light; make setup installs it")
        harness.require_tool("openssl", "Debian: openssl")
        cls.procs = []
        cls.tmp = tempfile.mkdtemp(prefix="wsgid-nginx-")
        os.chmod(cls.tmp, 0o755)  # nginx workers may run as nobody when the test is root
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        tmp = cls.tmp
        app_dir = os.path.join(tmp, "app")
        static_dir = os.path.join(app_dir, "static")
        os.makedirs(static_dir)
        with open(os.path.join(app_dir, "front_app.py"), "w") as f:
            f.write(APP)
        with open(os.path.join(static_dir, "hello.txt"), "wb") as f:
            f.write(STATIC_BODY)
        cls.calls = os.path.join(tmp, "calls.log")
        open(cls.calls, "w").close()
        os.chmod(cls.calls, 0o666)

        # wsgid on a UNIX socket, trusting the forwarded headers of its UNIX peers.
        cls.sock = os.path.join(tmp, "app.sock")
        cls.wsgid_log = open(os.path.join(tmp, "wsgid.log"), "wb")
        cls.wsgid = subprocess.Popen(
            [harness.WSGID, "-b", "unix:" + cls.sock,
             "--forwarded-allow-ips", "*", "--ops-bind", "off", "--control-socket", "off",
             "-w", "2", "--chdir", app_dir, "front_app:app"],
            stdout=cls.wsgid_log, stderr=subprocess.STDOUT, start_new_session=True,
            env=dict(os.environ, CALLS_FILE=cls.calls))
        cls.procs.append(cls.wsgid)
        if not wait_for_unix_socket(cls.sock, cls.wsgid):
            raise RuntimeError("wsgid did not start:\n" + cls._read("wsgid.log"))

        # A throw-away certificate for the TLS server.
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                       check=True, capture_output=True, timeout=30)

        cls.http_port, cls.https_port = harness.free_port(), harness.free_port()
        with open(DEPLOY_CONF) as f:
            conf = f.read()
        conf = rewrite(conf, "server unix:/run/wsgid/app.sock", "server unix:" + cls.sock)
        conf = rewrite(conf, "listen 80;", "listen 127.0.0.1:%d;" % cls.http_port)
        conf = rewrite(conf, "listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;"
                       % cls.https_port)
        conf = rewrite(conf, "/etc/ssl/wsgid/fullchain.pem", cert)
        conf = rewrite(conf, "/etc/ssl/wsgid/privkey.pem", key)
        conf = rewrite(conf, "alias /srv/app/static/;", "alias %s/;" % static_dir)
        site = os.path.join(tmp, "wsgid.conf")
        with open(site, "w") as f:
            f.write(conf)
        main = os.path.join(tmp, "nginx.conf")
        with open(main, "w") as f:
            f.write("""
daemon off;
worker_processes 1;
pid %(tmp)s/nginx.pid;
error_log %(tmp)s/error.log info;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log %(tmp)s/access.log;
    client_body_temp_path %(tmp)s/client_body;
    proxy_temp_path %(tmp)s/proxy;
    fastcgi_temp_path %(tmp)s/fastcgi;
    uwsgi_temp_path %(tmp)s/uwsgi;
    scgi_temp_path %(tmp)s/scgi;
    include %(site)s;
}
""" % {"tmp": tmp, "site": site})
        check = subprocess.run([NGINX, "-t", "-p", tmp, "-c", main], capture_output=True,
                               text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError("nginx -t failed:\n" + check.stderr)
        cls.nginx_out = open(os.path.join(tmp, "nginx.out"), "wb")
        cls.nginx = subprocess.Popen([NGINX, "-p", tmp, "-c", main], stdout=cls.nginx_out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        cls.procs.append(cls.nginx)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.https_port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or cls.nginx.poll() is not None:
                    raise RuntimeError("nginx did not start:\n" + cls._read("error.log"))
                time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        for proc in reversed(cls.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT if proc is getattr(cls, "nginx", None)
                                 else signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        for name in ("wsgid_log", "nginx_out"):
            if hasattr(cls, name):
                getattr(cls, name).close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def _read(cls, name):
        try:
            with open(os.path.join(cls.tmp, name), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def https(self, path, headers=None):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=10,
                                           context=ctx, source_address=(CLIENT_ADDR, 0))
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            headers = {}
            for name, value in resp.getheaders():  # repeated fields joined, as RFC 9110 allows
                name = name.lower()
                headers[name] = headers[name] + ", " + value if name in headers else value
            return resp.status, headers, resp.read()
        finally:
            conn.close()

    def app_calls(self):
        with open(self.calls) as f:
            return f.read().split()

    def test_static_file_comes_from_nginx(self):
        status, headers, body = self.https("/static/hello.txt")
        self.assertEqual(status, 200, self._read("error.log"))
        self.assertEqual(body, STATIC_BODY)
        self.assertTrue(headers.get("server", "").startswith("nginx"), headers)
        self.assertIn("max-age=3600", headers.get("cache-control", ""))
        self.assertNotIn("/static/hello.txt", self.app_calls())

    def test_dynamic_route_from_wsgid_with_forwarded_scheme_and_address(self):
        # Forged forwarded headers from the client are overwritten by nginx.
        status, _, body = self.https("/dynamic/route?x=1", {
            "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http"})
        self.assertEqual(status, 200, self._read("error.log") + self._read("wsgid.log"))
        echo = json.loads(body)
        self.assertEqual(echo["from"], "wsgid-app")
        self.assertEqual(echo["path"], "/dynamic/route")
        self.assertIn("/dynamic/route", self.app_calls())
        # TLS ended at nginx; the app sees https only through X-Forwarded-Proto.
        self.assertEqual(echo["url_scheme"], "https")
        # The client's address (127.0.0.2, not nginx's) only through X-Forwarded-For.
        self.assertEqual(echo["remote_addr"], CLIENT_ADDR)
        self.assertEqual(echo["x_forwarded_for"], CLIENT_ADDR)
        self.assertEqual(echo["host"], "127.0.0.1")

    def test_plain_http_redirects_to_https(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        try:
            conn.request("GET", "/some/page?q=1")
            resp = conn.getresponse()
            resp.read()
        finally:
            conn.close()
        self.assertEqual(resp.status, 301)
        self.assertEqual(resp.getheader("Location"), "https://127.0.0.1/some/page?q=1")

    def test_unix_peer_is_untrusted_without_star(self):
        """Why the deploy needs '*': with the default --forwarded-allow-ips (127.0.0.1,::1)
        the same headers over a UNIX socket are ignored."""
        sock = os.path.join(self.tmp, "untrusted.sock")
        with open(os.path.join(self.tmp, "untrusted.log"), "wb") as log:
            proc = subprocess.Popen(
                [harness.WSGID, "-b", "unix:" + sock,
                 "--ops-bind", "off", "--control-socket", "off",
                 "--chdir", os.path.join(self.tmp, "app"), "front_app:app"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env=dict(os.environ, CALLS_FILE=self.calls))
            try:
                self.assertTrue(wait_for_unix_socket(sock, proc), self._read("untrusted.log"))
                echo = unix_request("/direct", sock, {"X-Forwarded-For": "198.51.100.7",
                                                      "X-Forwarded-Proto": "https"})
                self.assertEqual(echo["url_scheme"], "http")
                self.assertNotEqual(echo["remote_addr"], "198.51.100.7")
                # ... and trusted by the '*' server that nginx talks to.
                echo = unix_request("/direct", self.sock, {"X-Forwarded-For": "198.51.100.7",
                                                           "X-Forwarded-Proto": "https"})
                self.assertEqual(echo["url_scheme"], "https")
                self.assertEqual(echo["remote_addr"], "198.51.100.7")
            finally:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


if __name__ == "__main__":
    unittest.main()
