"""The master's ops port and control API, against a real wsgid: health endpoints,
Prometheus metrics (checked by promtool), scaling, and bad input."""
import concurrent.futures
import http.client
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def call(conn_factory, method, path, body=None, headers=None):
    conn = conn_factory()
    try:
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        conn.request(method, path, body=data, headers=headers or {})
        response = conn.getresponse()
        text = response.read().decode()
        return response.status, (json.loads(text) if text.strip().startswith(("{", "[")) else text), response
    finally:
        conn.close()


def metric_values(text, name):
    """{labels-string: value} of one metric family's samples."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, _, value = line.rpartition(" ")
            out[key[len(name):]] = float(value)
    return out


class ControlPlane:
    """A wsgid with a private control socket (harness.ControlledServer) and ops port."""

    def __init__(self, *flags, workers=2, threads=1, app="lifecycle_app:app"):
        self.ops_port = harness.free_port()
        self.server = harness.ControlledServer(app, "--ops-bind",
                                               "127.0.0.1:%d" % self.ops_port, *flags,
                                               workers=workers, threads=threads)
        self.socket = self.server.sock

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)

    def api(self, method, path, body=None):
        return call(lambda: harness.UnixHTTPConnection(self.socket), method, path, body)

    def ops(self, path, timeout=10):
        return call(lambda: http.client.HTTPConnection("127.0.0.1", self.ops_port, timeout=timeout),
                    "GET", path)

    def wait_workers(self, ready, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, status, _ = self.api("GET", "/v1/status")
            pool = status["pool"]
            if pool["ready"] == ready and pool["live"] == ready:
                return True
            time.sleep(0.1)
        return False


class OpsPortTest(unittest.TestCase):
    def test_health_endpoints_and_metrics(self):
        with ControlPlane() as cp:
            status, body, _ = cp.ops("/livez")
            self.assertEqual(status, 200)
            status, body, _ = cp.ops("/readyz")
            self.assertEqual(status, 200)
            urllib.request.urlopen(cp.server.url + "/").read()
            status, text, response = cp.ops("/metrics")
            self.assertEqual(status, 200)
            self.assertEqual(response.getheader("Content-Type"),
                             "text/plain; version=0.0.4; charset=utf-8")
            workers = metric_values(text, "wsgid_workers")
            self.assertEqual(workers, {'{state="draining"}': 0, '{state="ready"}': 2,
                                       '{state="starting"}': 0})
            threads = metric_values(text, "wsgid_worker_threads")
            self.assertEqual(sum(threads.values()), 2)
            # Every label value is there from the start, at 0 where nothing happened.
            exits = metric_values(text, "wsgid_worker_exits_total")
            self.assertEqual(len(exits), 9)
            self.assertIn('{direction="up",kind="threads"}',
                          metric_values(text, "wsgid_autoscale_decisions_total"))
            self.assertGreaterEqual(
                metric_values(text, "wsgid_http_requests_total")['{code="200",method="GET"}'], 1)
            promtool = harness.require_tool("promtool", "Debian: prometheus; make setup")
            check = subprocess.run([promtool, "check", "metrics"], input=text,
                                   capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_counters_survive_worker_exits(self):
        with ControlPlane() as cp:
            for _ in range(20):
                urllib.request.urlopen(cp.server.url + "/").read()
            _, text, _ = cp.ops("/metrics")
            before = sum(metric_values(text, "wsgid_http_requests_total").values())
            self.assertGreaterEqual(before, 20)
            os.kill(cp.server.proc.pid, signal.SIGHUP)  # every worker replaced
            time.sleep(0.3)
            self.assertTrue(cp.wait_workers(2))
            _, text, _ = cp.ops("/metrics")
            after = sum(metric_values(text, "wsgid_http_requests_total").values())
            self.assertGreaterEqual(after, before)
            self.assertGreaterEqual(metric_values(text, "wsgid_worker_exits_total")['{reason="reload"}'], 1)

    def test_probes_answer_fast_while_every_worker_is_frozen(self):
        with ControlPlane("--timeout", "30", workers=2) as cp:
            # One spinning request per worker. Two connections arriving together can
            # both land on one worker (the kernel's choice; the second then waits behind
            # the first, as with any server whose busy worker accepted it), so spinners
            # are added, up to 4, until both workers spin with the GIL held.
            deadline = time.monotonic() + 15
            spinners = 0
            while time.monotonic() < deadline:
                _, status, _ = cp.api("GET", "/v1/status")
                if status["pool"]["busy_threads"] == 2:
                    break
                if spinners < 4 and spinners < 2 + (15 - (deadline - time.monotonic())) // 3:
                    threading.Thread(target=self.request_quietly,
                                     args=(cp.server.url + "/spin",)).start()
                    spinners += 1
                time.sleep(0.05)
            self.assertEqual(status["pool"]["busy_threads"], 2)
            slowest = 0
            for path in ("/livez", "/metrics", "/readyz") * 5:
                started = time.monotonic()
                code, _, _ = cp.ops(path, timeout=2)
                slowest = max(slowest, time.monotonic() - started)
                self.assertEqual(code, 200)
            print("\nslowest probe while all workers spin: %.1f ms" % (slowest * 1000),
                  file=sys.stderr)
            self.assertLess(slowest, 0.1)
            _, workers, _ = cp.api("GET", "/v1/workers")
            current = [c for w in workers["workers"] for c in w["current"]]
            self.assertEqual([c["path"] for c in current], ["/spin", "/spin"])
            cp.server.stop(signal.SIGINT)

    @staticmethod
    def request_quietly(url):
        try:
            urllib.request.urlopen(url, timeout=20).read()
        except Exception:
            pass

    def test_readyz_is_503_from_the_start_of_a_graceful_stop(self):
        with ControlPlane("--graceful-timeout", "10", threads=2) as cp:
            slow = threading.Thread(target=self.request_quietly, args=(cp.server.url + "/sleep?s=2",))
            slow.start()
            time.sleep(0.3)
            os.kill(cp.server.proc.pid, signal.SIGTERM)
            time.sleep(0.3)
            self.assertEqual(cp.ops("/readyz")[0], 503)
            self.assertEqual(cp.ops("/livez")[0], 200)
            slow.join(15)

    def test_ops_port_is_read_only(self):
        with ControlPlane() as cp:
            conn = http.client.HTTPConnection("127.0.0.1", cp.ops_port, timeout=5)
            conn.request("POST", "/metrics", body=b"x")
            self.assertEqual(conn.getresponse().status, 405)


class ControlApiTest(unittest.TestCase):
    def test_socket_is_private(self):
        with ControlPlane() as cp:
            self.assertEqual(stat.S_IMODE(os.stat(cp.socket).st_mode), 0o600)
        self.assertFalse(os.path.exists(cp.socket))

    def test_wsgictl_scale_to_12_and_back_to_2_under_load_without_a_failure(self):
        with ControlPlane(workers=2) as cp:
            failures = []
            stop = threading.Event()

            def load():
                while not stop.is_set():
                    try:
                        with urllib.request.urlopen(cp.server.url + "/", timeout=10) as r:
                            if r.status != 200:
                                failures.append(r.status)
                    except Exception as e:  # every failure counts
                        failures.append(repr(e))

            threads = [threading.Thread(target=load) for _ in range(3)]
            for t in threads:
                t.start()
            try:
                wsgictl = harness.WSGICTL
                scaled = subprocess.run([wsgictl, "-s", cp.socket, "scale", "12"],
                                        capture_output=True, text=True, timeout=30)
                self.assertEqual(scaled.returncode, 0, scaled.stderr)
                self.assertTrue(cp.wait_workers(12, timeout=30))
                _, workers, _ = cp.api("GET", "/v1/workers")
                self.assertEqual(len(workers["workers"]), 12)
                self.assertEqual({w["state"] for w in workers["workers"]}, {"ready"})
                _, text, _ = cp.ops("/metrics")
                self.assertEqual(sum(metric_values(text, "wsgid_workers").values()), 12)
                scaled = subprocess.run([wsgictl, "-s", cp.socket, "scale", "2"],
                                        capture_output=True, text=True, timeout=30)
                self.assertEqual(scaled.returncode, 0, scaled.stderr)
                self.assertTrue(cp.wait_workers(2, timeout=30))
            finally:
                stop.set()
                for t in threads:
                    t.join(15)
            self.assertEqual(failures, [])

    def test_bad_input_gets_its_status_and_changes_nothing(self):
        with ControlPlane() as cp:
            cases = [
                ("POST", "/v1/scale", b"{not json", 400, "malformed"),
                ("POST", "/v1/scale", {"workers": "three"}, 422, "integer"),
                ("POST", "/v1/scale", {"workers": 0}, 422, "between 1 and 32"),
                ("POST", "/v1/scale", {"workers": 33}, 422, "between 1 and 32"),
                ("POST", "/v1/scale", {"workers": 3, "colour": "red"}, 400, "unknown field 'colour'"),
                ("POST", "/v1/scale", {"workers": 3, "delta": 1}, 400, "exactly one"),
                ("POST", "/v1/scale", [3], 400, "object"),
                ("DELETE", "/v1/scale", None, 405, "use POST"),
                ("GET", "/v1/reload", None, 405, "use POST"),
                ("POST", "/v1/threads", {"threads": 100000}, 422, "between"),
                ("GET", "/v1/nothing", None, 404, "no such endpoint"),
                ("POST", "/v1/workers/99/kill", None, 404, "no serving worker"),
                ("PUT", "/v1/autoscale", {"enabled": "yes"}, 422, "true or false"),
            ]
            for method, path, body, expected, detail in cases:
                with self.subTest(method=method, path=path, body=body):
                    status, answer, response = cp.api(method, path, body)
                    self.assertEqual(status, expected, answer)
                    self.assertEqual(response.getheader("Content-Type"), "application/json")
                    self.assertIn("error", answer)
                    self.assertIn(detail, answer["detail"])
            # An oversized body is refused before it is read.
            status, _, _ = cp.api("POST", "/v1/scale", b"{" + b" " * 100000 + b"}")
            self.assertEqual(status, 413)
            _, status, _ = cp.api("GET", "/v1/status")
            self.assertEqual(status["pool"]["desired"], 2)
            self.assertEqual(status["generation"], 1)

    def test_worker_restart_and_kill(self):
        with ControlPlane() as cp:
            _, workers, _ = cp.api("GET", "/v1/workers")
            first = workers["workers"][0]
            status, body, _ = cp.api("POST", "/v1/workers/%d/restart" % first["id"])
            self.assertEqual((status, body), (202, {"id": first["id"]}))
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                _, workers, _ = cp.api("GET", "/v1/workers")
                pids = [w["pid"] for w in workers["workers"] if w["state"] == "ready"]
                if first["pid"] not in pids and len(pids) == 2:
                    break
                time.sleep(0.1)
            self.assertNotIn(first["pid"], pids)
            self.assertEqual(len(pids), 2)

    def test_threads_grow_and_shrink_in_place(self):
        with ControlPlane("--max-threads", "4") as cp:
            _, before, _ = cp.api("GET", "/v1/workers")
            pids = sorted(w["pid"] for w in before["workers"])
            status, body, _ = cp.api("POST", "/v1/threads", {"threads": 5})
            self.assertEqual(status, 422)
            self.assertIn("--max-threads", body["detail"])
            for threads in (4, 1):
                status, body, _ = cp.api("POST", "/v1/threads", {"threads": threads})
                self.assertEqual((status, body), (200, {"threads": threads}))
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    _, workers, _ = cp.api("GET", "/v1/workers")
                    if [w["threads"] for w in workers["workers"]] == [threads, threads]:
                        break
                    time.sleep(0.1)
                self.assertEqual([w["threads"] for w in workers["workers"]], [threads, threads])
                # The same processes: no restart.
                self.assertEqual(sorted(w["pid"] for w in workers["workers"]), pids)
            # Four threads in one worker serve four slow requests at once.
            status, _, _ = cp.api("POST", "/v1/scale", {"workers": 1})
            cp.api("POST", "/v1/threads", {"threads": 4})
            self.assertTrue(cp.wait_workers(1))
            time.sleep(1.5)
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                bodies = list(pool.map(
                    lambda _: urllib.request.urlopen(cp.server.url + "/sleep?s=1", timeout=10).read(),
                    range(4)))
            self.assertEqual(bodies, [b"slept"] * 4)
            self.assertLess(time.monotonic() - started, 3.5)

    def test_stop_through_the_api(self):
        with ControlPlane() as cp:
            status, body, _ = cp.api("POST", "/v1/stop", {"graceful": True})
            self.assertEqual(status, 202)
            self.assertEqual(cp.server.proc.wait(20), 0)

    def test_tcp_needs_the_token(self):
        with tempfile.TemporaryDirectory() as d:
            token_file = os.path.join(d, "token")
            with open(token_file, "w") as f:
                f.write("s3cret-token\n")
            port = harness.free_port()
            with ControlPlane("--control-bind", "127.0.0.1:%d" % port, "--control-token-file",
                              token_file) as cp:
                tcp = lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                self.assertEqual(call(tcp, "GET", "/v1/status")[0], 401)
                self.assertEqual(call(tcp, "GET", "/v1/status",
                                      headers={"Authorization": "Bearer wrong"})[0], 401)
                self.assertEqual(call(tcp, "GET", "/v1/status",
                                      headers={"Authorization": "Bearer s3cret-token"})[0], 200)
                self.assertNotIn("s3cret-token", cp.server.log())

    def test_tcp_without_a_token_refuses_to_start(self):
        result = subprocess.run(
            [harness.WSGID, "--control-bind", "127.0.0.1:%d" % harness.free_port(),
             "--control-socket", "off", "--ops-bind", "off", "-b", "127.0.0.1:%d" % harness.free_port(),
             "--chdir", harness.EXAMPLES, "hello:app"],
            capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("--control-token-file", result.stderr)


if __name__ == "__main__":
    unittest.main()
