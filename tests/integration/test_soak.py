"""A bounded soak: about two minutes of steady, moderate load (keep-alive and one-shot
connections, POST bodies, metrics scrapes and control API calls) against one server; the
memory and open fds of the master and every worker must stay flat, with no error.

Figures are printed to stderr: requests by kind, errors, and per process RSS and fd counts
at the start (after a warm-up) and at the end, both taken at rest (load paused, idle
keep-alive connections expired), so connections in use do not count as growth."""
import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WARM_UP_S = float(os.environ.get("WSGID_SOAK_WARM_UP", "15"))
SOAK_S = float(os.environ.get("WSGID_SOAK_SECONDS", "120"))
KEEP_ALIVE_S = 1.0  # --keep-alive: idle connections close this long after their last use

# Tolerances, and why (RSS is read at rest, after the same request mix ran for WARM_UP_S):
# - fds: exact. At rest a worker holds its listener, pipes, scoreboard and epoll set only,
#   and the master its fixed sockets; any extra fd is one leaked per something.
# - RSS: 2 MiB per worker, 1 MiB for the master. Each worker serves ~20,000 requests in
#   the soak, so 2 MiB is ~100 bytes per request: a leak of one environ dict, one response
#   body or one connection buffer per request (all larger) would exceed it; the master
#   answers ~130 scrapes and ~60 control calls, so 1 MiB is ~5 KiB per call (a leaked
#   metrics registry is more). What varies at rest otherwise (pymalloc and glibc arenas
#   keeping their high-water mark, page granularity) moved by under 0.1 MiB in our runs.
MIB = harness.MIB
fds, rss, worker_pids = harness.fds, harness.rss, harness.worker_pids
WORKER_RSS_TOLERANCE = 2 * MIB
MASTER_RSS_TOLERANCE = 1 * MIB


class Traffic:
    """Paced clients, so the load is steady and moderate (a few hundred requests per
    second) rather than whatever the machine can take; pause() and resume() bracket the
    samples."""

    def __init__(self, host, port, ops_port, control_socket):
        self.host, self.port = host, port
        self.ops_port, self.control_socket = ops_port, control_socket
        self.counts = {}
        self.errors = []
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._stop = threading.Event()
        self._idle = []
        kinds = [(self.keep_alive_get, 0.01)] * 3 + [(self.one_shot_get, 0.02),
                                                   (self.post_echo, 0.02),
                                                   (self.scrape, 1.0),
                                                   (self.control_status, 2.0)]
        self.threads = [threading.Thread(target=self._loop, args=(fn, pause), daemon=True)
                        for fn, pause in kinds]
        self._running.set()
        for t in self.threads:
            t.start()

    def _count(self, kind):
        with self._lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def _loop(self, fn, pause):
        state = {}
        idle = threading.Event()
        self._idle.append(idle)
        while not self._stop.is_set():
            if not self._running.is_set():
                if state.get("conn") is not None:
                    state["conn"].close()
                    state["conn"] = None
                idle.set()
                self._running.wait(0.1)
                continue
            idle.clear()
            try:
                fn(state)
            except Exception as e:  # every error is a test failure
                with self._lock:
                    self.errors.append("%s: %r" % (fn.__name__, e))
                if state.get("conn") is not None:
                    state["conn"].close()
                state["conn"] = None
            time.sleep(pause)
        if state.get("conn") is not None:
            state["conn"].close()

    def _check(self, kind, response, body, expected=None):
        if response.status != 200 or (expected is not None and body != expected):
            raise AssertionError("%s: status %d, %d bytes" % (kind, response.status,
                                                               len(body)))
        self._count(kind)

    def keep_alive_get(self, state):
        if state.get("conn") is None:
            state["conn"] = http.client.HTTPConnection(self.host, self.port, timeout=15)
        conn = state["conn"]
        conn.request("GET", "/pid")
        response = conn.getresponse()
        self._check("keep-alive GET", response, response.read())
        if response.getheader("Connection") == "close":
            conn.close()
            state["conn"] = None

    def one_shot_get(self, state):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
        try:
            conn.request("GET", "/", headers={"Connection": "close"})
            response = conn.getresponse()
            self._check("one-shot GET", response, response.read(), b"ok")
        finally:
            conn.close()

    def post_echo(self, state):
        body = os.urandom(8192)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
        try:
            conn.request("POST", "/echo", body=body, headers={"Connection": "close"})
            response = conn.getresponse()
            self._check("POST 8 KiB echo", response, response.read(), body)
        finally:
            conn.close()

    def scrape(self, state):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.ops_port,
                                    timeout=15) as r:
            text = r.read()
        if r.status != 200 or b"wsgid_workers" not in text:
            raise AssertionError("metrics: status %d" % r.status)
        self._count("metrics scrape")

    def control_status(self, state):
        conn = http.client.HTTPConnection("localhost", timeout=15)
        conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.sock.settimeout(15)
        conn.sock.connect(self.control_socket)
        try:
            conn.request("GET", "/v1/status")
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or "version" not in json.loads(body):
                raise AssertionError("control: status %d" % response.status)
            self._count("control API status")
        finally:
            conn.close()

    def pause(self):
        """Stops every client and closes its connection; then waits out the server's
        keep-alive so what the server holds at rest is all that is left."""
        self._running.clear()
        for idle in self._idle:
            idle.wait(20)
        time.sleep(KEEP_ALIVE_S + 2.0)

    def resume(self):
        self._running.set()

    def stop(self):
        self._stop.set()
        self._running.set()
        for t in self.threads:
            t.join(20)

    def total(self):
        with self._lock:
            return sum(self.counts.values())


def sample(master_pid):
    """{pid: (rss, fds)} of the master (key 'master') and each worker (by pid)."""
    out = {"master": (rss(master_pid), fds(master_pid))}
    for pid in sorted(worker_pids(master_pid)):
        out[pid] = (rss(pid), fds(pid))
    return out


class SoakTest(unittest.TestCase):
    def test_steady_load_keeps_memory_and_fds_flat(self):
        ops_port = harness.free_port()
        with tempfile.TemporaryDirectory() as d:
            control_socket = os.path.join(d, "control.sock")
            server = harness.Server("fault_app:app", "--keep-alive", str(KEEP_ALIVE_S),
                                    "--ops-bind", "127.0.0.1:%d" % ops_port,
                                    "--control-socket", control_socket, workers=2, threads=2)
            with server:
                traffic = Traffic(server.host, server.port, ops_port, control_socket)
                try:
                    time.sleep(WARM_UP_S)
                    traffic.pause()
                    start = sample(server.proc.pid)
                    at_start = traffic.total()
                    traffic.resume()
                    began = time.monotonic()
                    trend = []
                    while time.monotonic() - began < SOAK_S:
                        time.sleep(min(30, SOAK_S - (time.monotonic() - began)))
                        # Under load, for the record only (connections in use count here).
                        trend.append({k: v[0] for k, v in sample(server.proc.pid).items()})
                    traffic.pause()
                    elapsed = time.monotonic() - began
                    end = sample(server.proc.pid)
                    in_soak = traffic.total() - at_start
                finally:
                    traffic.stop()
                log = server.log()

        lines = ["%.0f s at %.0f req/s after %.0f s of warm-up: %s; errors %d"
                 % (elapsed, in_soak / elapsed, WARM_UP_S,
                    ", ".join("%s %d" % kv for kv in sorted(traffic.counts.items())),
                    len(traffic.errors))]
        lines += ["error: " + e for e in traffic.errors[:10]]
        lines.append("at rest, start -> end (RSS MB, open fds):")
        for key in start:
            s_rss, s_fds = start[key]
            e_rss, e_fds = end.get(key, (0, 0))
            lines.append("  %-8s %7.2f -> %7.2f MB (%+.2f)   fds %d -> %d"
                         % (key, s_rss / MIB, e_rss / MIB, (e_rss - s_rss) / MIB,
                            s_fds, e_fds))
        lines.append("RSS under load every 30 s (MB): " + "; ".join(
            " ".join("%s %.1f" % (k, v / MIB) for k, v in t.items()) for t in trend))
        print("\n[soak]\n  " + "\n  ".join(lines), file=sys.stderr)

        self.assertEqual(traffic.errors, [])
        self.assertGreater(in_soak, SOAK_S * 50)
        self.assertEqual(set(start), set(end), "a worker was replaced during the soak:\n"
                         + log[-3000:])
        self.assertNotIn("exited", log)
        for key in start:
            tolerance = MASTER_RSS_TOLERANCE if key == "master" else WORKER_RSS_TOLERANCE
            self.assertLessEqual(end[key][0] - start[key][0], tolerance, key)
            self.assertEqual(end[key][1], start[key][1], "open fds of %s" % key)


if __name__ == "__main__":
    unittest.main()
