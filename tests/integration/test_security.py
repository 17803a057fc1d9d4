"""What a hostile client or a careless deployment must not get: a header smuggled in through
an underscore, a forged client address or scheme from an untrusted peer, a control socket
others can open, a token or an app secret in the logs, an endless control request body.

Bounded: each case starts one server and sends a few requests over loopback or a UNIX
socket."""
import json
import os
import stat
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def echo(server, headers):
    """GET / through environ_echo with these raw header lines; the app's environ."""
    with server.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n" + b"".join(
            h.encode("latin-1") + b"\r\n" for h in headers) + b"Connection: close\r\n\r\n")
        status, _, body = harness.read_response(s)
    return status, (json.loads(body)["environ"] if status == 200 else None)


class HeaderSafetyTest(unittest.TestCase):
    def test_underscore_header_cannot_pose_as_a_dashed_one(self):
        # X_Auth and X-Auth both map to HTTP_X_AUTH; a proxy that checks X-Auth lets
        # X_Auth through, so the underscore one is dropped (Gunicorn's default).
        with harness.Server("environ_echo:app") as server:
            status, env = echo(server, ["X_Auth: forged", "X-Auth: real"])
            self.assertEqual(status, 200)
            self.assertEqual(env.get("HTTP_X_AUTH"), "real")
            status, env = echo(server, ["X_Auth: forged"])
            self.assertNotIn("HTTP_X_AUTH", env)

    def test_underscore_header_refused_or_kept_when_configured(self):
        with harness.Server("environ_echo:app", "--header-map", "refuse") as server:
            self.assertEqual(echo(server, ["X_Auth: forged"])[0], 400)
        with harness.Server("environ_echo:app", "--header-map", "dangerous") as server:
            status, env = echo(server, ["X_Auth: kept"])
            self.assertEqual(env.get("HTTP_X_AUTH"), "kept")


class ForwardedHeadersTest(unittest.TestCase):
    FORGED = ["X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https"]

    def test_ignored_from_a_peer_that_is_not_a_trusted_proxy(self):
        with harness.Server("environ_echo:app", "--forwarded-allow-ips", "10.9.9.9") as server:
            status, env = echo(server, self.FORGED)
            self.assertEqual(status, 200)
            self.assertEqual(env["REMOTE_ADDR"], "127.0.0.1")
            self.assertEqual(env["wsgi.url_scheme"], "http")

    def test_honoured_from_a_trusted_proxy(self):
        with harness.Server("environ_echo:app") as server:  # 127.0.0.1 is trusted
            status, env = echo(server, self.FORGED)
            self.assertEqual(env["REMOTE_ADDR"], "203.0.113.7")
            self.assertEqual(env["wsgi.url_scheme"], "https")

    def test_client_cannot_prepend_an_address_through_an_appending_proxy(self):
        # A proxy that appends (nginx's $proxy_add_x_forwarded_for) passes on what the
        # client wrote first; only the last entry is the proxy's own word.
        with harness.Server("environ_echo:app") as server:
            status, env = echo(server, ["X-Forwarded-For: 10.0.0.1, 198.51.100.2"])
            self.assertEqual(env["REMOTE_ADDR"], "198.51.100.2")


class ControlPlaneSecurityTest(unittest.TestCase):
    def start(self, *flags, env=None):
        server = harness.ControlledServer("lifecycle_app:app", *flags, env=env)
        server.start()
        self.addCleanup(server.__exit__, None, None, None)
        self.sock = server.sock
        return server

    def api(self, method, path, body=None):
        conn = harness.UnixHTTPConnection(self.sock)
        try:
            conn.request(method, path, body=body,
                         headers={"Content-Type": "application/json"} if body else {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def test_socket_mode_0660_lets_the_group_in_and_no_one_else(self):
        self.start("--control-socket-mode", "0660")
        self.assertEqual(stat.S_IMODE(os.stat(self.sock).st_mode), 0o660)

    def test_an_oversized_control_request_is_refused_and_changes_nothing(self):
        self.start()
        status, body = self.api("POST", "/v1/scale",
                                b'{"workers": 2, "pad": "' + b"x" * (2 << 20) + b'"}')
        self.assertEqual(status, 413, body)
        status, body = self.api("GET", "/v1/status")
        self.assertEqual(json.loads(body)["pool"]["desired"], 1)

    def test_app_environment_and_token_stay_out_of_the_logs(self):
        with tempfile.NamedTemporaryFile("w", suffix=".token") as token:
            token.write("t0ken-that-must-not-leak\n")
            token.flush()
            server = self.start("-e", "DB_PASSWORD=hunter2-must-not-leak", "--control-bind",
                                "127.0.0.1:%d" % harness.free_port(), "--control-token-file",
                                token.name, "--log-level", "debug",
                                env={"WSGID_SECRET_TEST": "ignored"})
            self.api("POST", "/v1/reload")
            self.api("POST", "/v1/scale", b'{"workers": 2}')
            log = server.log()
        self.assertNotIn("hunter2-must-not-leak", log)
        self.assertNotIn("t0ken-that-must-not-leak", log)

    def test_app_environment_reaches_the_app_but_not_the_workers_argv(self):
        # Any local user can read a process's argv; only its owner its environment.
        server = self.start("-e", "DB_PASSWORD=hunter2-not-in-argv", "-e", "HOME=/from-e",
                            env={"HOME": "/inherited"})
        with urllib.request.urlopen(server.url + "/env?name=DB_PASSWORD", timeout=10) as r:
            self.assertEqual(r.read(), b"hunter2-not-in-argv")
        with urllib.request.urlopen(server.url + "/env?name=HOME", timeout=10) as r:
            self.assertEqual(r.read(), b"/from-e")
        workers = [int(p) for p in open("/proc/%d/task/%d/children"
                                        % (server.proc.pid, server.proc.pid)).read().split()]
        self.assertTrue(workers)
        for pid in workers:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                self.assertNotIn(b"hunter2", f.read())


if __name__ == "__main__":
    unittest.main()
