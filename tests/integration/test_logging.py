"""Logging: rotation with the real logrotate under load, --log-format json (every line of
both logs parses), Gunicorn's access-log atoms, syslog to a UNIX datagram socket of the
test's own, Gunicorn's logging config files and stdio settings.

The app is examples/logging_app.py: /n?i=N prints "print N" and answers "N PID".
"""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
RECORD_FIELDS = {"time": str, "level": str, "pid": int, "worker": int, "process": str,
                 "stream": str, "message": str}
ACCESS_FIELDS = {"remote_addr": str, "method": str, "path": str, "query": str,
                 "protocol": str, "request_line": str, "status": int, "bytes": int,
                 "referer": str, "user_agent": str, "duration_s": float, "duration_us": int}


def read_lines(*paths):
    """Every line of the files that exist, as text (each must end with a newline)."""
    lines = []
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            raise AssertionError("%s ends in a partial line: %r" % (path, data[-200:]))
        lines += data.decode("utf-8").splitlines()
    return lines


def get(server, path, headers=None):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=20)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server(harness.Server):
    """A harness.Server whose log() also holds the error log file it writes (the harness
    waits for the master's "serving" line there): --error-logfile, or error_log= when a
    logging config file names it."""

    def __init__(self, *args, error_log=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.error_log = error_log
        if "--error-logfile" in self.flags:
            self.error_log = self.flags[self.flags.index("--error-logfile") + 1]

    def log(self):
        text = super().log()
        if self.error_log:
            path = self.error_log
            if os.path.exists(path):
                with open(path, "rb") as f:
                    text += f.read().decode("utf-8", "replace")
        return text


class NumberedLoad:
    """Client threads sending /n?i=N with N unique, recording when each answer came."""

    def __init__(self, server, clients=3):
        self.server = server
        self.next = 0
        self.answered = {}  # i -> (sent, received) monotonic times
        self.errors = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def _loop(self):
        conn = None
        while not self._stop.is_set():
            with self._lock:
                i = self.next
                self.next += 1
            sent = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.server.host, self.server.port,
                                                      timeout=20)
                conn.request("GET", "/n?i=%d" % i)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError("status %d" % response.status)
                with self._lock:
                    self.answered[i] = (sent, time.monotonic())
            except Exception as e:  # judged by the test
                with self._lock:
                    self.errors.append((i, repr(e), sent, time.monotonic()))
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(0.002)
        if conn is not None:
            conn.close()

    def stop(self):
        self._stop.set()
        for t in self.threads:
            t.join(30)


class LogrotateTest(unittest.TestCase):
    """Must show: logrotate (postrotate: kill -USR1 the master) twice under steady load."""

    def setUp(self):
        self.logrotate = harness.require_tool("logrotate", "apt-get install logrotate")
        self.dir = tempfile.mkdtemp(prefix="wsgid-logrotate-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def rotate(self, conf, state):
        started = time.monotonic()
        r = subprocess.run([self.logrotate, "-f", "-s", state, conf], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return started, time.monotonic()

    def run_rotations(self, log_format):
        access = os.path.join(self.dir, "access.log")
        error = os.path.join(self.dir, "error.log")
        server = Server("logging_app:app", "--access-logfile", access,
                                "--error-logfile", error, "--log-format", log_format,
                                workers=2, threads=2)
        with server:
            conf = os.path.join(self.dir, "logrotate.conf")
            with open(conf, "w") as f:
                f.write("%s %s {\n  rotate 5\n  nocompress\n  nocreate\n  missingok\n"
                        "  sharedscripts\n  postrotate\n    kill -USR1 %d\n  endscript\n}\n"
                        % (access, error, server.proc.pid))
            state = os.path.join(self.dir, "state")
            load = NumberedLoad(server)
            time.sleep(0.7)
            first = self.rotate(conf, state)
            time.sleep(1.5)
            second = self.rotate(conf, state)
            time.sleep(1.5)
            load.stop()
            time.sleep(0.3)  # the last lines are written as the responses go out
            # Seen once under CI load (three keep-alive requests at once answered by a
            # closed connection): what the test knows when it happens, for the next time.
            diagnosis = "rotations at %s and %s; error logs, oldest first:\n%s" % (
                first, second, "\n".join(read_lines(error + ".2", error + ".1", error))[-8000:])
        self.assertEqual(load.errors, [], diagnosis)
        self.assertGreater(len(load.answered), 100, "steady load served too little")
        return access, error, load.answered, first, second

    def where(self, base, parse, pattern):
        """{request number: [file suffixes]} of every line of base, .1, .2 matching pattern."""
        found = {}
        for suffix in ("", ".1", ".2"):
            for line in read_lines(base + suffix):
                text = parse(line)
                m = pattern.search(text)
                if m:
                    found.setdefault(int(m.group(1)), []).append(suffix)
        return found

    def check(self, log_format, parse, access_line):
        access, error, answered, first, second = self.run_rotations(log_format)
        for base in (access, error):
            for suffix in (".1", ".2"):
                self.assertTrue(os.path.exists(base + suffix), base + suffix)
        accesses = self.where(access, access_line, re.compile(r"GET /n\?i=(\d+) "))
        prints = self.where(error, parse, re.compile(r"^print (\d+)$"))
        for i, (sent, received) in answered.items():
            self.assertEqual(len(accesses.get(i, [])), 1, "access line of request %d: %s"
                             % (i, accesses.get(i)))
            self.assertEqual(len(prints.get(i, [])), 1, "print of request %d: %s"
                             % (i, prints.get(i)))
            # Within a second of a rotation everything has moved to the new file.
            if sent > second[1] + 1.0:
                self.assertEqual(accesses[i], [""], i)
                self.assertEqual(prints[i], [""], i)
            elif first[1] + 1.0 < sent and received < second[0]:
                self.assertEqual(accesses[i], [".1"], i)
                self.assertEqual(prints[i], [".1"], i)
            elif received < first[0]:
                self.assertEqual(accesses[i], [".2"], i)
                self.assertEqual(prints[i], [".2"], i)
        # Each of the three files got lines while it was the current one.
        for suffix in ("", ".1", ".2"):
            self.assertIn(suffix, {s for v in accesses.values() for s in v})
            self.assertIn(suffix, {s for v in prints.values() for s in v})

    def test_logrotate_twice_text(self):
        line_re = re.compile(r"^\[[^\]]+\] \[\d+\] \[[A-Z]+\] (.*)$")

        def parse(line):
            m = line_re.match(line)
            return m.group(1) if m else line
        self.check("text", parse, lambda line: line)

    def test_logrotate_twice_json(self):
        self.check("json", lambda line: json.loads(line)["message"],
                   lambda line: json.loads(line)["message"])


class JsonLogTest(unittest.TestCase):
    """Must show: every line of both logs from a run with errors, a traceback, a frozen
    worker's stacks and a reload parses as JSON with the documented fields."""

    def test_every_line_parses(self):
        d = tempfile.mkdtemp(prefix="wsgid-json-")
        self.addCleanup(shutil.rmtree, d, True)
        access, error = os.path.join(d, "access.log"), os.path.join(d, "error.log")
        with Server("logging_app:app", "--access-logfile", access, "--error-logfile",
                            error, "--log-format", "json", "--timeout", "1",
                            "--abort-grace", "1", "--access-logformat",
                            '%(h)s "%(r)s" %(s)s %({x-trace}i)s', workers=2) as server:
            self.assertEqual(get(server, "/n?i=1", {
                "X-Request-ID": "abc",
                "Authorization": "Basic " + base64.b64encode(b"alice:pw").decode()})[0], 200)
            self.assertEqual(get(server, "/err?i=2")[0], 200)
            self.assertEqual(get(server, "/raise")[0], 500)
            self.assertEqual(get(server, "/thread")[0], 200)
            self.assertEqual(get(server, "/warn", {"X-Trace": "t-1"})[0], 200)
            with self.assertRaises(Exception):  # the frozen worker is killed under it
                get(server, "/sleep?s=30")
            log = harness.wait_for_log(server, lambda log: "(most recent call first)" in log,
                                       timeout=15)
            self.assertIn("(most recent call first)", log)
            # The frozen worker's replacement first: a HUP before it is ready
            # would stop it unready (generation 1 ends) and leave 4 ready lines.
            harness.wait_for_log(server, lambda log: log.count(") ready") >= 3, timeout=20)
            server.proc.send_signal(signal.SIGHUP)
            # Two first workers, the frozen one's replacement, two of generation 2.
            log = harness.wait_for_log(server, lambda log: log.count(") ready") >= 5,
                                       timeout=20)
            self.assertGreaterEqual(log.count(") ready"), 5, log)
            self.assertEqual(get(server, "/n?i=3")[0], 200)
        records = [json.loads(line) for line in read_lines(error)]
        accesses = [json.loads(line) for line in read_lines(access)]
        for r in records + accesses:
            for field, kind in RECORD_FIELDS.items():
                self.assertIsInstance(r.get(field), kind, (field, r))
            self.assertRegex(r["time"], RFC3339)
            self.assertIn(r["level"], {"debug", "info", "warning", "error", "critical"})
        for a in accesses:
            self.assertEqual(a["stream"], "access")
            for field, kind in ACCESS_FIELDS.items():
                self.assertIsInstance(a.get(field), kind, (field, a))
            self.assertIn("request_id", a)
        by_path = {}
        for a in accesses:
            by_path.setdefault(a["path"], a)
        self.assertEqual(by_path["/n"]["request_id"], "req-1")  # the app's wins
        self.assertEqual(by_path["/raise"]["status"], 500)
        self.assertEqual(by_path["/warn"]["request_headers"], {"x-trace": "t-1"})
        self.assertIsNone(by_path["/err"]["request_id"])
        self.assertEqual(by_path["/n"]["user"], "alice")  # the u atom
        self.assertIsNone(by_path["/err"]["user"])
        messages = [(r["stream"], r["message"]) for r in records]
        self.assertIn(("stdout", "print 1"), messages)
        self.assertIn(("stderr", "stderr 2"), messages)
        self.assertIn(("stdout", "print 3"), messages)  # after the reload
        # The request's traceback, the thread's, and the frozen worker's stacks: each one
        # record holding all of its lines.
        self.assertTrue(any("Traceback (most recent call last)" in m and
                            "ValueError: failed on purpose" in m for _, m in messages))
        self.assertTrue(any(s == "stderr" and m.startswith("Exception in thread") and
                            "RuntimeError: thread failed on purpose" in m
                            for s, m in messages))
        self.assertTrue(any(s == "stderr" and "(most recent call first)" in m and
                            'logging_app.py", line' in m for s, m in messages), messages)
        self.assertTrue(any("WORKER TIMEOUT" in m for _, m in messages))
        self.assertTrue(any("reload" in m for _, m in messages))
        workers = {r["worker"] for r in records}
        self.assertIn(0, workers)  # the master
        self.assertTrue(workers - {0})
        # "process" says what wrote it; the worker id is a worker's only.
        for r in records:
            self.assertEqual(r["process"], "worker" if r["worker"] else "master", r)
        self.assertEqual({a["process"] for a in accesses}, {"worker"})


class AccessAtomsTest(unittest.TestCase):
    def test_header_and_environ_atoms(self):
        d = tempfile.mkdtemp(prefix="wsgid-atoms-")
        self.addCleanup(shutil.rmtree, d, True)
        access = os.path.join(d, "access.log")
        fmt = ('%(m)s %(U)s %(q)s %(H)s %(s)s %(B)s %({x-foo}i)s %({x-request-id}o)s '
               '%({wsgi.url_scheme}e)s %({remote_addr}e)s %({request_method}e)s %(p)s '
               '%(u)s')
        with Server("logging_app:app", "--access-logfile", access,
                            "--access-logformat", fmt) as server:
            get(server, "/n?i=7", {"X-Foo": "bar baz", "Authorization": "Basic " +
                                   base64.b64encode(b"bob:s3:cret").decode()})
            pid = int(get(server, "/n?i=8")[1].split()[1])
            harness.wait_until(lambda: len(read_lines(access)) >= 2, 10)
        lines = [line for line in read_lines(access) if line.startswith("GET /n ")]
        self.assertEqual(lines[0], "GET /n i=7 HTTP/1.1 200 %d bar baz req-7 http 127.0.0.1 "
                         "GET <%d> bob" % (len("7 %d" % pid), pid))
        self.assertTrue(lines[1].startswith("GET /n i=8 HTTP/1.1 200 "), lines[1])
        self.assertTrue(lines[1].endswith(" -"), lines[1])  # no Authorization: no user
        self.assertIn(" - req-8 http ", lines[1])


class SyslogTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wsgid-syslog-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.path = os.path.join(self.dir, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.addCleanup(self.sock.close)

    def received(self):
        out = []
        while True:
            try:
                out.append(self.sock.recv(65536).decode())
            except socket.timeout:
                return out

    def test_error_and_access_records(self):
        with Server("logging_app:app", "--log-syslog", "--log-syslog-to",
                            "unix://" + self.path, "--log-syslog-prefix", "shop",
                            "--log-syslog-facility", "local0") as server:
            get(server, "/n?i=5")
            get(server, "/raise")
            time.sleep(0.3)
        got = self.received()
        # local0 (16) * 8 + info (6) = 134; error (3) = 131.
        self.assertTrue(any(m.startswith("<134>wsgid.shop.error: [") and " serving " in m
                            for m in got), got)
        self.assertTrue(any(m.startswith("<131>wsgid.shop.error: [") and
                            "Traceback" in m for m in got), got)
        self.assertTrue(any(m.startswith("<134>wsgid.shop.access: [") and
                            "GET /n?i=5" in m for m in got), got)

    def test_access_kept_out(self):
        with Server("logging_app:app", "--log-syslog", "--log-syslog-to",
                            "unix:" + self.path,
                            "--disable-redirect-access-to-syslog") as server:
            get(server, "/n?i=6")
            time.sleep(0.3)
        got = self.received()
        self.assertTrue(any(m.startswith("<14>wsgid.error: ") for m in got), got)
        self.assertFalse([m for m in got if ".access:" in m])


class LogConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wsgid-logconfig-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_ini_file(self):
        ini = self.path("logging.ini")
        with open(ini, "w") as f:
            f.write("[loggers]\nkeys=root,access\n\n[handlers]\nkeys=err,acc\n\n"
                    "[formatters]\nkeys=\n\n[logger_root]\nlevel=INFO\nhandlers=err\n\n"
                    "[logger_access]\nlevel=INFO\nhandlers=acc\nqualname=gunicorn.access\n\n"
                    "[handler_err]\nclass=FileHandler\nargs=('%s', 'a')\n\n"
                    "[handler_acc]\nclass=FileHandler\nargs=('%s',)\n"
                    % (self.path("e.log"), self.path("a.log")))
        with Server("logging_app:app", "--log-config", ini, error_log=self.path("e.log")) as server:
            get(server, "/n?i=9")
        self.assertIn(" serving ", "\n".join(read_lines(self.path("e.log"))))
        self.assertIn("print 9", "\n".join(read_lines(self.path("e.log"))))
        self.assertIn("GET /n?i=9", "\n".join(read_lines(self.path("a.log"))))

    def serve_one_error(self, *flags):
        """Starts with `flags`, waiting for the port only (at level WARNING or above there
        is no "serving" line), and has one request raise."""
        server = Server("logging_app:app", *flags).start(expect_ready=False)
        try:
            self.assertTrue(harness.wait_for_port(server.host, server.port, 30, server.proc))
            self.assertEqual(get(server, "/raise")[0], 500)
        finally:
            server.stop()

    def test_dict_in_gunicorn_conf_and_json_file(self):
        conf = self.path("gunicorn.conf.py")
        with open(conf, "w") as f:
            f.write("logconfig_dict = {'version': 1, 'root': {'level': 'ERROR', "
                    "'handlers': ['f']}, 'handlers': {'f': {'class': "
                    "'logging.FileHandler', 'filename': %r}}}\n" % self.path("d.log"))
        with open(self.path("log.json"), "w") as f:
            json.dump({"version": 1, "loggers": {"gunicorn.error": {
                "level": "WARNING", "handlers": ["f"]}}, "handlers": {"f": {
                    "class": "logging.FileHandler", "filename": self.path("j.log")}}}, f)
        self.serve_one_error("-c", conf)
        self.serve_one_error("--log-config-json", self.path("log.json"))
        for name in ("d.log", "j.log"):
            text = "\n".join(read_lines(self.path(name)))
            self.assertIn("ValueError: failed on purpose", text)
            self.assertNotIn("[INFO]", text)  # the level came from the config

    def test_refusals_and_stdio_inheritance(self):
        r = subprocess.run([harness.WSGID, "--logger-class", "myapp.Logger",
                            "logging_app:app"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--logger-class", r.stderr)
        self.assertIn("cannot replace", r.stderr)
        r = subprocess.run([harness.WSGID, "--log-config", self.path("none.ini"),
                            "logging_app:app"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--log-config", r.stderr)
        error = self.path("err.log")
        # -R: the app's prints stay on the master's stdout (the harness's log), not in
        # the error log; --capture-output brings them back.
        with Server("logging_app:app", "-R", "--error-logfile", error) as server:
            get(server, "/n?i=11")
            harness.wait_until(lambda: "print 11" in server.log(), 10)
            self.assertIn("print 11", server.log())
        self.assertNotIn("print 11", "\n".join(read_lines(error)))
        with Server("logging_app:app", "-R", "--capture-output", "--error-logfile",
                            error) as server:
            get(server, "/n?i=12")
        self.assertIn("print 12", "\n".join(read_lines(error)))


if __name__ == "__main__":
    unittest.main()
