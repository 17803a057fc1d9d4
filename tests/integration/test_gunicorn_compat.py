"""Gunicorn's command lines, config files and environment as they are (issue 15).

Ten command lines taken from where people copy them start and serve (the tests change only
the bind address, so they run side by side on loopback); a UDP listener receives Gunicorn's
statsd lines and the counts add up; --print-config's output, read back as a
gunicorn.conf.py, gives the same settings; every refused flag and unknown key is named with
its reason; the exit codes are the README's (0 ok, 2 settings, 3 app import).
"""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import EXAMPLES, WSGID, wait_until, worker_pids, wsgictl, wsgictl_json
from harness import free_port, require_binaries

DJANGO_SITE = os.path.join(EXAMPLES, "django_site")
# The tests' own ops port and control socket stay off through the environment, so the
# command lines themselves are the published ones.
QUIET = {"WSGID_OPS_BIND": "off", "WSGID_CONTROL_SOCKET": "off"}


class Run:
    """`wsgid ARGS` (as `gunicorn ARGS`) in `cwd` with `env` added; stopped with TERM."""

    def __init__(self, args, cwd=EXAMPLES, env=None):
        self.args, self.cwd = args, cwd
        self.env = dict(os.environ, **dict(QUIET, **(env or {})))
        self.log = tempfile.NamedTemporaryFile(prefix="wsgid-gcompat-", delete=False)
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen([WSGID] + self.args, cwd=self.cwd, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def text(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_serving(self, timeout=30):
        ok = wait_until(lambda: " serving " in self.text() or self.proc.poll() is not None,
                        timeout)
        assert ok and self.proc.poll() is None, self.text()

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.unlink(self.log.name)


def http_get(port, path="/", host="127.0.0.1"):
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(b"GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % path.encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def unix_get(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def live_workers(run):
    return len(worker_pids(run.proc.pid))


class RealWorldCommandLinesTest(unittest.TestCase):
    """Each: where it comes from, then the command line with only the bind changed."""

    def setUp(self):
        require_binaries("wsgid", "wsgid-worker")
        self.port = free_port()
        self.bind = "127.0.0.1:%d" % self.port

    def serve(self, args, path="/", expect=b"Hello, World!", cwd=EXAMPLES, env=None,
              workers=None):
        with Run(args, cwd=cwd, env=env) as run:
            run.wait_serving()
            reply = http_get(self.port, path)
            self.assertTrue(reply.startswith(b"HTTP/1.0 200") or
                            reply.startswith(b"HTTP/1.1 200"), reply[:200])
            self.assertIn(expect, reply)
            if workers is not None:
                self.assertTrue(wait_until(lambda: live_workers(run) == workers, 10),
                                run.text())
            return run.text()

    def test_1_gunicorn_docs_quickstart(self):
        # docs.gunicorn.org "Running Gunicorn": gunicorn -w 4 -b 127.0.0.1:4000 myapp:app
        self.serve(["-w", "4", "-b", self.bind, "hello:app"], workers=4)

    def test_2_gunicorn_design_gthread(self):
        # docs.gunicorn.org "Design / How Many Threads?":
        # gunicorn --workers=5 --threads=2 --worker-class=gthread main:app ; with -k gthread
        # --threads 4 as the issue's own example
        log = self.serve(["-k", "gthread", "--threads", "4", "-w", "2", "-b", self.bind,
                          "hello:app"], workers=2)
        self.assertIn("x 4 thread(s)", log)

    def test_3_docker_worker_tmp_dir(self):
        # pythonspeed.com "Configuring Gunicorn for Docker" (and Gunicorn's FAQ on
        # blocking os.fchmod): gunicorn --worker-tmp-dir /dev/shm --workers=2 --threads=4
        # --worker-class=gthread --log-file=- -b 0.0.0.0:8000 app:app
        log = self.serve(["--worker-tmp-dir", "/dev/shm", "--workers=2", "--threads=4",
                          "--worker-class=gthread", "--log-file=-", "-b", self.bind,
                          "hello:app"], workers=2)
        self.assertIn("--worker-tmp-dir changes nothing", log)

    def test_4_gunicorn_cmd_args(self):
        # docs.gunicorn.org "Configuration Overview / Command Line":
        # GUNICORN_CMD_ARGS="--bind=127.0.0.1 --workers=3" gunicorn app:app
        self.serve(["hello:app"], env={"GUNICORN_CMD_ARGS": "--bind=%s --workers 3" %
                                       self.bind}, workers=3)

    def test_5_config_from_python_module(self):
        # docs.gunicorn.org settings "config": -c python:MODULE_NAME
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "gconf_settings.py"), "w") as f:
                f.write("bind = %r\nworkers = 2\nwsgi_app = 'hello:app'\n" % self.bind)
            self.serve(["-c", "python:gconf_settings", "--pythonpath", EXAMPLES], cwd=d,
                       workers=2)

    def test_6_django_deployment_guide(self):
        # docs.djangoproject.com "How to use Django with Gunicorn": gunicorn myproject.wsgi
        # (run in the project directory; the callable defaults to `application`)
        self.serve(["examplesite.wsgi", "-b", self.bind], cwd=DJANGO_SITE, expect=b"")

    def test_7_flask_deployment_guide(self):
        # flask.palletsprojects.com "Deploying / Gunicorn":
        # gunicorn -w 4 -b 0.0.0.0 'hello:create_app()'
        self.serve(["-w", "4", "-b", self.bind, "flask_app:create_app()"], expect=b"",
                   workers=4)

    def test_8_default_gunicorn_conf_py(self):
        # docs.gunicorn.org "Configuration File": ./gunicorn.conf.py is read when no -c is
        # given; the file as Gunicorn's example writes it (multiprocessing, accesslog)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "gunicorn.conf.py"), "w") as f:
                f.write("import multiprocessing\n"
                        "bind = %r\n"
                        "workers = 2\n"
                        "accesslog = '-'\n"
                        "loglevel = 'info'\n" % self.bind)
            log = self.serve(["--pythonpath", EXAMPLES, "hello:app"], cwd=d, workers=2)
            self.assertIn('"GET / HTTP/1.0" 200', log)

    def test_9_systemd_unix_socket(self):
        # DigitalOcean "How To Set Up Django with Postgres, Nginx, and Gunicorn" systemd unit:
        # gunicorn --access-logfile - --workers 3 --bind unix:/run/gunicorn.sock
        # myproject.wsgi:application
        with tempfile.TemporaryDirectory() as d:
            sock = os.path.join(d, "gunicorn.sock")
            with Run(["--access-logfile", "-", "--workers", "3", "--bind", "unix:" + sock,
                      "hello:app"]) as run:
                run.wait_serving()
                self.assertIn(b"Hello, World!", unix_get(sock))
                self.assertTrue(wait_until(lambda: live_workers(run) == 3, 10))

    def test_10_named_behind_proxy(self):
        # docs.gunicorn.org settings (proc_name, reuse_port, max_requests, the Gunicorn
        # spelling --limit-request-field_size, forwarded_allow_ips) as a production line
        args = ["-n", "shop", "--reuse-port", "--max-requests", "1000",
                "--max-requests-jitter", "50", "--limit-request-field_size", "16380",
                "--forwarded-allow-ips=*", "-b", self.bind, "hello:app"]
        with Run(args) as run:
            run.wait_serving()
            self.assertIn(b"Hello, World!", http_get(self.port))
            with open("/proc/%d/cmdline" % run.proc.pid, "rb") as f:
                self.assertTrue(f.read().startswith(b"wsgid: master [shop]"))
            with open("/proc/%d/comm" % run.proc.pid) as f:
                self.assertEqual(f.read().strip(), "wsgid: master [")
            pid = next(iter(worker_pids(run.proc.pid)))
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                self.assertTrue(f.read().startswith(b"wsgid: worker [shop]"))
            # SO_REUSEPORT: a second socket can bind the port while the master holds it
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                s.bind(("127.0.0.1", self.port))

    def test_heroku_port(self):
        # Heroku's Procfile "web: gunicorn app:app": PORT names the port, bound on 0.0.0.0
        # (checked through --print-config: the tests bind loopback only)
        code, out, err = self.print_config(["hello:app"], {"PORT": "5123"})
        self.assertEqual(code, 0, err)
        self.assertIn("bind", out)
        self.assertRegex(out, r"(?m)^bind\s+= \['0\.0\.0\.0:5123'\]  # environment$")

    def print_config(self, args, env):
        proc = subprocess.run([WSGID, "--print-config"] + args, cwd=EXAMPLES,
                              env=dict(os.environ, **env), capture_output=True, text=True,
                              timeout=30)
        return proc.returncode, proc.stdout, proc.stderr


class StatsdTest(unittest.TestCase):
    def test_counts_of_100_requests_add_up(self):
        require_binaries("wsgid", "wsgid-worker")
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(0.5)
        port = free_port()
        args = ["-w", "2", "-b", "127.0.0.1:%d" % port, "--statsd-host",
                "127.0.0.1:%d" % udp.getsockname()[1], "--statsd-prefix", "myapp",
                "--dogstatsd-tags", "env:test", "hello:app"]
        lines = []
        try:
            with Run(args) as run:
                run.wait_serving()
                for _ in range(100):
                    self.assertIn(b"Hello", http_get(port))
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    try:
                        lines.append(udp.recv(4096).decode())
                    except socket.timeout:  # a quiet moment: the flush is complete
                        if sum(self.counts(lines, "myapp.gunicorn.requests").values()) >= 100:
                            break
        finally:
            udp.close()
        requests = self.counts(lines, "myapp.gunicorn.requests")
        self.assertEqual(sum(requests.values()), 100, lines)
        status = self.counts(lines, "myapp.gunicorn.request.status.200")
        self.assertEqual(sum(status.values()), 100, lines)
        self.assertTrue(any(re.match(r"myapp\.gunicorn\.request\.duration:[0-9.]+\|ms"
                                     r"\|#env:test$", l) for l in lines), lines)
        self.assertTrue(any(re.match(r"myapp\.gunicorn\.workers:2\|g\|#env:test$", l)
                            for l in lines), lines)

    @staticmethod
    def counts(lines, name):
        out = {}
        for i, line in enumerate(lines):
            m = re.match(re.escape(name) + r":(\d+)\|c\|@1\.0\|#env:test$", line)
            if m:
                out[i] = int(m.group(1))
        return out


# Logs through Gunicorn's logger objects (server.log in the master's hooks, worker.log in
# the workers'), which Gunicorn's statsd logger counts: a warning once ready, and per
# request /n?i=N&warn a warning, &error an error, &exc an exception with its traceback.
LOGGING_HOOKS = """
def when_ready(server):
    server.log.warning("a warning through server.log")


def pre_request(worker, req):
    if "warn" in req.query:
        worker.log.warning("a warning through worker.log: %s", req.query)
    if "error" in req.query:
        worker.log.error("an error through worker.log")
    if "exc" in req.query:
        try:
            1 / 0
        except ZeroDivisionError:
            worker.log.exception("an exception through worker.log")
"""


class StatsdLogCountersTest(unittest.TestCase):
    """gunicorn.log.{warning,error,critical,exception}: the workers' records and the
    master's, by level, not lost nor doubled when a worker is replaced."""

    def setUp(self):
        require_binaries("wsgid", "wsgid-worker")
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.2)
        self.addCleanup(self.udp.close)
        self.lines = []

    def totals(self):
        out = {}
        for line in self.lines:
            m = re.match(r"gunicorn\.log\.(\w+):(\d+)\|c\|@1\.0$", line)
            if m:
                out[m.group(1)] = out.get(m.group(1), 0) + int(m.group(2))
        return out

    def receive_until(self, want, timeout=15):
        """Reads datagrams until the totals include `want`, then one flush more (2 s)
        so that a count sent too many would show."""
        deadline = time.monotonic() + timeout
        settle = None
        while time.monotonic() < (settle or deadline):
            try:
                self.lines.append(self.udp.recv(4096).decode())
            except socket.timeout:
                pass
            got = self.totals()
            if settle is None and all(got.get(k, 0) >= v for k, v in want.items()):
                settle = time.monotonic() + 2
        return self.totals()

    def test_records_by_level_across_a_worker_replacement(self):
        port, ops = free_port(), free_port()
        with tempfile.TemporaryDirectory() as d:
            conf = os.path.join(d, "gunicorn.conf.py")
            with open(conf, "w") as f:
                f.write(LOGGING_HOOKS)
            args = ["-c", conf, "-w", "1", "-b", "127.0.0.1:%d" % port, "--timeout", "2",
                    "--statsd-host", "127.0.0.1:%d" % self.udp.getsockname()[1],
                    "--ops-bind", "127.0.0.1:%d" % ops, "logging_app:app"]
            with Run(args) as run:
                run.wait_serving()
                for q in ("warn", "warn", "error", "exc"):
                    self.assertIn(b" 200 ", http_get(port, "/n?i=1&" + q))
                for _ in range(2):  # Gunicorn: log.exception("Error handling request")
                    self.assertIn(b" 500 ", http_get(port, "/raise"))
                # logging.warning() in the app goes to stderr, not through the logger:
                # Gunicorn does not count it either.
                self.assertIn(b" 200 ", http_get(port, "/warn"))
                want = {"warning": 3, "error": 1, "exception": 3}
                self.assertEqual(self.receive_until(want), want,
                                 "%s\n%s" % (self.lines, run.text()))
                # The master's WORKER TIMEOUT (critical); the worker is replaced, and
                # what it counted stays counted once.
                try:
                    http_get(port, "/sleep?s=30")
                except OSError:
                    pass
                self.assertTrue(wait_until(lambda: "Booting worker" in
                                           run.text().split("WORKER TIMEOUT")[-1], 30),
                                run.text())
                self.assertIn(b" 500 ", http_get(port, "/raise"), run.text())
                got = self.receive_until({"critical": 1, "exception": 4})
                self.assertEqual(got.get("critical"), 1, self.lines)
                self.assertEqual(got.get("exception"), 4, self.lines)
                self.assertEqual(got.get("warning"), 3, self.lines)
                self.assertIn("WORKER TIMEOUT", run.text())
                # Prometheus has the same counts (wsgid_log_records_total{level}).
                metrics = http_get(ops, "/metrics").decode()
                exported = {level: int(float(n)) for level, n in re.findall(
                    r'(?m)^wsgid_log_records_total\{level="(\w+)"\} (\S+)$', metrics)}
                self.assertEqual(exported, {"warning": 3, "error": got.get("error", 0),
                                            "critical": 1, "exception": 4}, metrics)


class PrintConfigTest(unittest.TestCase):
    def run_wsgid(self, args, cwd=EXAMPLES, env=None):
        proc = subprocess.run([WSGID] + args, cwd=cwd, env=dict(os.environ, **(env or {})),
                              capture_output=True, text=True, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    def test_round_trip(self):
        require_binaries("wsgid")
        code, first, err = self.run_wsgid([
            "--print-config", "-w", "3", "-k", "gthread", "--threads", "4", "-b",
            "127.0.0.1:8123", "-b", "unix:/tmp/x.sock", "--timeout", "45.5", "-e", "A=b c",
            "--umask", "027", "--access-logformat", "%(h)s 'x' \"%(r)s\"",
            "--forwarded-allow-ips", "10.0.0.1,10.0.0.2", "--worker-tmp-dir", "/dev/shm",
            "--max-worker-memory", "200M", "--name", "shop", "hello:app"])
        self.assertEqual(code, 0, err)
        self.assertRegex(first, r"(?m)^workers\s+= 3  # flag$")
        self.assertRegex(first, r"(?m)^worker_class\s+= 'gthread'  # flag$")
        self.assertRegex(first, r"(?m)^graceful_timeout\s+= 30  # default$")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "printed.conf.py")
            with open(path, "w") as f:
                f.write(first)
            code, second, err = self.run_wsgid(["-c", path, "--print-config"])
            self.assertEqual(code, 0, err)
        # the same values; every one now comes from the file (the source is a comment)
        values = lambda text: [l.rsplit("  # ", 1)[0] for l in text.splitlines()
                               if not l.startswith("config ")]
        self.assertEqual(values(first), values(second))
        # what the command line set, the file now sets (None reads back as "not set")
        for was, now in zip(first.splitlines(), second.splitlines()):
            if was.endswith("  # flag") and not was.startswith("config "):
                self.assertTrue(now.endswith("  # file"), now)
        # the lines are Gunicorn's names: every one is a Gunicorn setting or wsgid's own
        names = [l.split(" ")[0] for l in first.splitlines()]
        self.assertEqual(names, sorted(names))
        for n in ("bind", "workers", "threads", "timeout", "raw_env", "umask", "proc_name",
                  "worker_tmp_dir", "limit_request_field_size", "wsgi_app"):
            self.assertIn(n, names)


class ProxyHeadersTest(unittest.TestCase):
    """--secure-scheme-headers, --forwarder-headers, --strip-header-spaces."""

    def request(self, port, headers):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /p HTTP/1.0\r\nHost: x\r\n" +
                      b"".join(h.encode() + b"\r\n" for h in headers) + b"\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        assert body.startswith(b"{") or not head.startswith(b"HTTP/1.0 200"), data
        status = head.split(b" ")[1]
        return status, (json.loads(body)["environ"] if status == b"200" else None)

    def test_trusted_and_untrusted(self):
        require_binaries("wsgid", "wsgid-worker")
        port = free_port()
        base = ["-b", "127.0.0.1:%d" % port, "-w", "1", "environ_echo:app"]
        trusted = ["--forwarded-allow-ips", "127.0.0.1",
                   "--secure-scheme-headers", "X-SCHEME=https",
                   "--forwarder-headers", "SCRIPT_NAME,REMOTE_USER",
                   "--strip-header-spaces"]
        with Run(trusted + base) as run:
            run.wait_serving()
            _, env = self.request(port, ["X-Scheme: https", "SCRIPT_NAME: /app",
                                         "REMOTE_USER: ann", "X-Name : v"])
            self.assertEqual(env["wsgi.url_scheme"], "https")
            self.assertEqual(env.get("SCRIPT_NAME"), "/app")
            self.assertEqual(env.get("REMOTE_USER"), "ann")
            self.assertEqual(env.get("HTTP_X_NAME"), "v")
            _, env = self.request(port, ["X-Forwarded-Proto: https"])  # not in the list
            self.assertEqual(env["wsgi.url_scheme"], "http")
        with Run(["--forwarded-allow-ips", "10.9.9.9"] + base) as run:
            run.wait_serving()
            _, env = self.request(port, ["X-Forwarded-Proto: https", "SCRIPT_NAME: /app"])
            self.assertEqual(env["wsgi.url_scheme"], "http")
            self.assertNotIn("/app", json.dumps(env))
            status, _ = self.request(port, ["X-Name : v"])  # no --strip-header-spaces
            self.assertEqual(status, b"400")
            # An untrusted peer's scheme headers are not read, contradictory or not.
            status, env = self.request(port, ["X-Forwarded-Proto: https",
                                              "X-Forwarded-Ssl: off"])
            self.assertEqual((status, env["wsgi.url_scheme"]), (b"200", "http"))

    def test_contradictory_scheme_headers_are_refused_as_gunicorn_does(self):
        """Gunicorn's default --secure-scheme-headers from a trusted peer: two that
        disagree answer 400 "Contradictory scheme headers" before the app is called."""
        require_binaries("wsgid", "wsgid-worker")
        port = free_port()
        with Run(["-b", "127.0.0.1:%d" % port, "-w", "1", "--forwarded-allow-ips",
                  "127.0.0.1", "environ_echo:app"]) as run:
            run.wait_serving()
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"GET /p HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\n"
                          b"X-Forwarded-Ssl: off\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):  # the server closes the connection
                    data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 400 Bad Request\r\n"), data)
            self.assertIn(b"Contradictory scheme headers", data)
            for headers, scheme in ((["X-Forwarded-Proto: https", "X-Forwarded-Ssl: on"],
                                     "https"),
                                    (["X-Forwarded-Proto: http"], "http"),
                                    (["X-Forwarded-Protocol: ssl"], "https")):
                status, env = self.request(port, headers)
                self.assertEqual((status, env["wsgi.url_scheme"]), (b"200", scheme),
                                 headers)


class DaemonTest(unittest.TestCase):
    def test_daemon_detaches_and_serves(self):
        # Gunicorn's -D: the command returns 0 at once; the master lives on in its own
        # session, writes its pid file and serves until TERM.
        require_binaries("wsgid", "wsgid-worker")
        port = free_port()
        with tempfile.TemporaryDirectory() as d:
            pidfile = os.path.join(d, "wsgid.pid")
            proc = subprocess.run([WSGID, "-D", "-p", pidfile, "-w", "1", "-b",
                                   "127.0.0.1:%d" % port, "hello:app"], cwd=EXAMPLES,
                                  env=dict(os.environ, **QUIET), capture_output=True,
                                  timeout=30)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertTrue(wait_until(lambda: os.path.exists(pidfile), 15))
            with open(pidfile) as f:
                pid = int(f.read())
            try:
                self.assertNotEqual(os.getsid(pid), os.getsid(0))
                self.assertTrue(wait_until(lambda: b"Hello" in self.try_get(port), 15))
            finally:
                os.kill(pid, signal.SIGTERM)
            self.assertTrue(wait_until(lambda: not os.path.exists("/proc/%d" % pid), 20))

    @staticmethod
    def try_get(port):
        try:
            return http_get(port)
        except OSError:
            return b""


class ControlConfigTest(unittest.TestCase):
    def test_wsgictl_config_matches_print_config(self):
        require_binaries("wsgid", "wsgid-worker", "wsgictl")
        port = free_port()
        with tempfile.TemporaryDirectory() as d:
            sock = os.path.join(d, "ctl.sock")
            token = os.path.join(d, "token")
            with open(token, "w") as f:
                f.write("s3cret-token-value\n")
            args = ["-w", "2", "-b", "127.0.0.1:%d" % port, "--control-token-file", token,
                    "--worker-tmp-dir", "/dev/shm", "-e", "DB_PASSWORD=hunter2", "hello:app"]
            env = {"WSGID_CONTROL_SOCKET": sock, "GUNICORN_CMD_ARGS": "--timeout 40"}
            printed = subprocess.run([WSGID, "--print-config"] + args, cwd=EXAMPLES,
                                     env=dict(os.environ, **dict(QUIET, **env)),
                                     capture_output=True, text=True, timeout=30)
            self.assertEqual(printed.returncode, 0, printed.stderr)
            with Run(args, env=env) as run:
                run.wait_serving()
                shown = wsgictl("config", sock=sock, check=0).stdout
                answer = wsgictl_json(sock, "config")
            # the same lines, sources included, but the control API hides -e's values,
            # which --print-config (the operator's own command line) shows
            self.assertRegex(printed.stdout, r"(?m)^raw_env += \['DB_PASSWORD=hunter2'\]  # flag$")
            self.assertEqual(shown, printed.stdout.replace("'DB_PASSWORD=hunter2'",
                                                           "'DB_PASSWORD=<hidden>'"))
            self.assertNotIn("s3cret", shown + str(answer))
            self.assertNotIn("hunter2", shown + str(answer))
            sources = {s["name"]: s["source"] for s in answer["settings"]}
            self.assertEqual(sources["workers"], "flag")
            self.assertEqual(sources["timeout"], "environment")
            self.assertEqual(sources["control_socket"], "environment")
            self.assertEqual(sources["graceful_timeout"], "default")


class MessagesAndExitCodesTest(unittest.TestCase):
    def run_wsgid(self, args, cwd=EXAMPLES, env=None):
        proc = subprocess.run([WSGID] + args, cwd=cwd, env=dict(os.environ, **(env or {})),
                              capture_output=True, text=True, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    def test_refused_flags_name_themselves_and_exit_2(self):
        require_binaries("wsgid")
        for args, words in [
                (["-k", "gevent"], ["--worker-class", "gevent", "instead: -k gthread"]),
                (["-k", "eventlet"], ["--worker-class", "green-thread"]),
                (["-k", "uvicorn.workers.UvicornWorker"], ["ASGI", "uvicorn"]),
                (["-k", "tornado"], ["Tornado"]),
                (["--reload"], ["--reload: refused", "wsgictl reload"]),
                (["--reload-extra-file", "x"], ["--reload-extra-file: refused"]),
                (["--spew"], ["--spew: refused"]),
                (["--paste", "app.ini"], ["--paste: refused", "loadapp"]),
                (["--paster", "app.ini"], ["--paste: refused"]),
                (["--paste-global", "A=1"], ["--paste-global: refused"]),
                (["--tolerate-dangerous-framing"], ["refused", "smuggling"])]:
            code, out, err = self.run_wsgid(args + ["hello:app"])
            self.assertEqual(code, 2, (args, err))
            for w in words:
                self.assertIn(w, err, args)

    def test_every_unused_setting_says_why(self):
        require_binaries("wsgid", "wsgid-worker")
        code, out, err = self.run_wsgid([
            "--check-config", "--worker-connections", "500", "--worker-tmp-dir", "/dev/shm",
            "--no-sendfile", "--initgroups", "--casefold-http-method",
            "--permit-unconventional-http-method", "--permit-unconventional-http-version",
            "--reload-engine", "poll", "hello:app"])
        self.assertEqual(code, 0, err)
        for flag in ("--worker-connections", "--worker-tmp-dir", "--no-sendfile",
                     "--initgroups", "--casefold-http-method",
                     "--permit-unconventional-http-method",
                     "--permit-unconventional-http-version", "--reload-engine"):
            self.assertIn("info: %s changes nothing" % flag, err)

    def test_unknown_keys_in_gunicorn_conf_py_are_named(self):
        require_binaries("wsgid", "wsgid-worker")
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "gunicorn.conf.py"), "w") as f:
                f.write("import os\nfrom os.path import join\n"
                        "workers = 2\nwrokers = 3\nmax_request = 10\n_private = 1\n"
                        "tmp_upload_dir = '/tmp'\n"
                        "secure_scheme_headers = {'X-SCHEME': 'https'}\n"
                        "def helper():\n    pass\n")
            code, out, err = self.run_wsgid(["--check-config", "--pythonpath", EXAMPLES,
                                             "hello:app"], cwd=d)
        self.assertEqual(code, 0, err)
        for key in ("wrokers", "max_request", "helper"):
            self.assertIn("'%s' is neither a Gunicorn setting nor a server hook" % key, err)
        for quiet in ("'os'", "'join'", "_private", "'workers'", "secure_scheme_headers"):
            self.assertNotIn(quiet, err)
        self.assertIn("tmp_upload_dir changes nothing", err)

    def test_exit_codes(self):
        require_binaries("wsgid", "wsgid-worker")
        self.assertEqual(self.run_wsgid(["--check-config", "hello:app"])[0], 0)
        self.assertEqual(self.run_wsgid(["--check-config", "--no-such-flag", "hello:app"])[0],
                         2)
        self.assertEqual(self.run_wsgid(["--check-config", "-w", "x", "hello:app"])[0], 2)
        code, out, err = self.run_wsgid(["--check-config", "no_such_module:app"])
        self.assertEqual(code, 3, err)
        self.assertIn("No module named 'no_such_module'", err)
        self.assertEqual(self.run_wsgid(["--print-config", "hello:app"])[0], 0)
        code, _, err = self.run_wsgid(["hello:app"], env={"GUNICORN_CMD_ARGS": "--workers 'x"})
        self.assertEqual(code, 2)
        self.assertIn("GUNICORN_CMD_ARGS", err)


if __name__ == "__main__":
    unittest.main()
