"""The one harness of the Python test tiers: runs a real wsgid on loopback, and the helpers
every test file shares (HTTP requests, the master's workers from /proc, waiting, tools).

Server(app, *flags) starts `build/bin/wsgid -b 127.0.0.1:PORT flags... app` with its error
log captured, waits until the port accepts connections, and stops it with SIGTERM at the end;
ControlledServer adds a control socket in a private directory and runs wsgictl against it.
WSGID_BIN_DIR overrides the binary directory. WSGID_TEST_SERVER=gunicorn runs Debian's
gunicorn with the same flags instead: a way to check a test against the reference server.

The integration tier imports this module from its own folder; the conformance and bench
tiers import it by path (sys.path gets tests/integration). A tool or binary a test needs
and cannot find FAILS the test (require_tool): a missing tool must not pass as a skip.
"""
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
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.environ.get("WSGID_BIN_DIR", os.path.join(REPO, "build", "bin"))
EXAMPLES = os.path.join(REPO, "examples")
PYTHON = "/usr/bin/python3"
WSGID = os.path.join(BIN_DIR, "wsgid")
WSGICTL = os.path.join(BIN_DIR, "wsgictl")
# WSGID_TEST_SERVER=gunicorn: the tests run against Debian's gunicorn (see Server).
UNDER_GUNICORN = os.environ.get("WSGID_TEST_SERVER") == "gunicorn"
# Set by tests/sanitize/run_sanitized.sh: the binaries are built with ASan and UBSan.
SANITIZED = os.environ.get("WSGID_SANITIZED") == "1"
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1 << 20
# issue 14: wsgid takes $VIRTUAL_ENV as the app's virtualenv. `make test` run from an
# activated venv must not hand it to every wsgid the tests start (Server, and the tests'
# own subprocess calls, inherit this environment): a test that wants one sets it.
os.environ.pop("VIRTUAL_ENV", None)


def require_tool(name, hint=""):
    """The path of executable `name` (on PATH, in the sbin directories, or an absolute
    path); raises AssertionError, which fails the calling test, when there is none.
    Call it from a test or setUp/setUpClass, not at import."""
    if os.path.isabs(name):
        found = name if os.access(name, os.X_OK) else None
    else:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")
    if not found:
        raise AssertionError("%s is not installed%s: a missing tool fails the test" % (
            name, " (%s)" % hint if hint else ""))
    return found


def require_binaries(*names):
    """The paths of the built binaries `names` in BIN_DIR; AssertionError when one is not
    built (the test fails, it does not skip)."""
    paths = [os.path.join(BIN_DIR, n) for n in names]
    for p in paths:
        if not os.access(p, os.X_OK):
            raise AssertionError("%s is not built (make build, or set WSGID_BIN_DIR)" % p)
    return paths


def have_module(module, python=PYTHON):
    """Whether `python` can import `module` (an optional extra, such as matplotlib)."""
    r = subprocess.run([python, "-c", "import " + module], capture_output=True, timeout=30)
    return r.returncode == 0


def get(url, timeout=10):
    """GET url with urllib: (status, body bytes); raises on an HTTP error status."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


# ---- processes from /proc ----

def alive(pid):
    """True while pid exists and is not a zombie (a zombie is dead for our purposes)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def worker_pids(master_pid):
    """Live (non-zombie) children of the master: its workers."""
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split() if alive(int(p))}


def rss(pid):
    """Resident set size of pid in bytes; 0 once it is gone."""
    try:
        with open("/proc/%d/statm" % pid) as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return 0


def fds(pid):
    """Open file descriptors of pid; 0 once it is gone."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


def run_bounded(cmd, timeout):
    """Runs cmd in its own session: (returncode, stdout, stderr) as text, or raises
    AssertionError with the output when it takes longer than timeout seconds (SIGTERM first,
    so a runner can stop the servers it started, then SIGKILL to the whole group)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        raise AssertionError("%s took more than %d s:\n%s\n%s" % (
            os.path.basename(cmd[1] if len(cmd) > 1 else cmd[0]), timeout,
            out.decode(errors="replace"), err.decode(errors="replace")))
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05):
    """Polls predicate until it is true or timeout seconds passed; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def wait_for_log(server, predicate, timeout=10):
    """Polls server.log() until predicate(log text) holds; returns the last log read either
    way (the caller asserts on it, so a timeout shows the log)."""
    deadline = time.monotonic() + timeout
    while True:
        log = server.log()
        if predicate(log) or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


def wait_for_port(host, port, timeout, proc=None):
    """Waits until host:port answers an HTTP request (any status: a worker has loaded the
    app, not just the master bound the port); False on timeout or process exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=1) as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % host.encode())
                if s.recv(16).startswith(b"HTTP/"):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


class Server:
    """One server process; use as a context manager."""

    def __init__(self, app, *flags, workers=1, threads=1, chdir=EXAMPLES, env=None,
                 bind=True, cwd=None):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.app = app
        self.flags = list(flags)
        self.workers = workers
        self.threads = threads
        self.chdir = chdir
        self.env = dict(os.environ, **(env or {}))  # no VIRTUAL_ENV unless `env` says
        self.bind = bind
        self.cwd = cwd  # wsgid's working directory (the test's by default)
        self.proc = None
        self._log = tempfile.NamedTemporaryFile(prefix="wsgid-test-", suffix=".log",
                                                delete=False)

    def command(self):
        flags = []
        if self.bind:
            flags += ["-b", "%s:%d" % (self.host, self.port)]
        if self.workers is not None:
            flags += ["-w", str(self.workers)]
        flags += ["--threads", str(self.threads)]
        if self.chdir:
            flags += ["--chdir", self.chdir]
        if os.environ.get("WSGID_TEST_SERVER") == "gunicorn":
            return [PYTHON, "-m", "gunicorn"] + flags + self.flags + [self.app]
        # No ops port or control socket unless a test asks (its flags come later and
        # win): tests running in parallel would otherwise meet on the default ones.
        flags += ["--ops-bind", "off", "--control-socket", "off"]
        return [WSGID] + flags + self.flags + [self.app]

    def start(self, timeout=30, expect_ready=True):
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     env=self.env, start_new_session=True, cwd=self.cwd)
        if expect_ready and not self._wait_ready(timeout):
            self.stop()
            raise RuntimeError("server did not start: %s\n%s" % (self.command(), self.log()))
        return self

    def _wait_ready(self, timeout):
        """Until a request is answered and, for wsgid, the master says every worker is
        ready (its "serving" line): signals sent before that would meet a booting pool."""
        deadline = time.monotonic() + timeout
        if self.bind and not wait_for_port(self.host, self.port, timeout, self.proc):
            return False
        if os.environ.get("WSGID_TEST_SERVER") == "gunicorn":
            return True
        while time.monotonic() < deadline and self.proc.poll() is None:
            if " serving " in self.log():
                return True
            time.sleep(0.05)
        return False

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signals the server and waits for it; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def log(self):
        with open(self._log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def connect(self, timeout=10):
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        os.unlink(self._log.name)


class TlsServer(Server):
    """A harness server whose first bind serves TLS or wants a PROXY header: ready once
    the master says every worker is (the harness's plain-HTTP probe would be refused)."""

    def _wait_ready(self, timeout):
        return wait_until(lambda: " serving " in self.log() or
                                  self.proc.poll() is not None, timeout) and \
            self.proc.poll() is None


# ---- PromQL and the exported metrics (the deploy and dashboard checks) ----

PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
                "group_left", "group_right", "inf", "nan"}


def metric_selectors(expr):
    """(name, matchers) of each metric selector in a PromQL expression; matchers is the
    '{...}' text or ''."""
    # Grouping clauses hold label names, not metrics: drop them.
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ",
                  expr)
    out = []
    token = re.compile(r'"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\d[\w.]*|'
                       r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?|\{[^}]*\}")
    for m in token.finditer(expr):
        name = m.group(1)
        if not name or name.lower() in PROMQL_WORDS:
            continue
        if m.group(2) is None and expr[m.end():].lstrip().startswith("("):
            continue  # a function call
        out.append((name, m.group(2) or ""))
    return out


def readme_metrics(histogram_series=False):
    """wsgid_* metric names the README says wsgid exports; histogram_series adds the
    _bucket, _sum and _count series of each *duration*_seconds histogram."""
    with open(os.path.join(REPO, "README.md")) as f:
        names = set(re.findall(r"`(wsgid_[a-z_]+)", f.read()))
    if histogram_series:
        for name in list(names):
            if name.endswith("_seconds") and "duration" in name:
                names |= {name + "_bucket", name + "_sum", name + "_count"}
    return names


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a UNIX socket (the control API)."""

    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def wsgictl(*args, sock=None, env=None, timeout=30, check=None):
    """Runs wsgictl (text output); `check` asserts its exit code. Returns CompletedProcess."""
    command = [WSGICTL] + (["-s", sock] if sock else []) + list(args)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env=dict(os.environ, **(env or {})), stdin=subprocess.DEVNULL)
    if check is not None and result.returncode != check:
        raise AssertionError("%s exited %d, expected %d\nstdout:\n%s\nstderr:\n%s" % (
            command, result.returncode, check, result.stdout, result.stderr))
    return result


def wsgictl_json(sock, *args, timeout=30):
    """`wsgictl -s sock -o json args...`, parsed; fails unless it exits 0."""
    return json.loads(wsgictl("-o", "json", *args, sock=sock, timeout=timeout,
                              check=0).stdout)


class ControlledServer(Server):
    """A wsgid with its control socket in a private directory (removed at __exit__)."""

    def __init__(self, app="lifecycle_app:app", *flags, **kwargs):
        self.dir = tempfile.TemporaryDirectory(prefix="wsgictl-test-")
        self.sock = os.path.join(self.dir.name, "ctl.sock")
        super().__init__(app, "--control-socket", self.sock, *flags, **kwargs)

    def ctl(self, *args, **kwargs):
        return wsgictl(*args, sock=self.sock, **kwargs)

    def ctl_json(self, *args):
        return wsgictl_json(self.sock, *args)

    def worker_list(self):
        return self.ctl_json("workers")["workers"]

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self.dir.cleanup()


# ---- load while something happens to the server ----

class Failure:
    """One failed request of a Load: when (s since the load began), on which worker, why."""

    def __init__(self, started, ended, worker, why):
        self.started, self.ended, self.worker, self.why = started, ended, worker, why

    def __repr__(self):
        return "at %.2f-%.2f s on worker %s: %s" % (self.started, self.ended, self.worker,
                                                     self.why)


class Load:
    """Client threads sending GET `path` until stopped, recording every failure.

    keep_alive clients reuse a connection until the server closes it; the others open one
    per request. Paths under /pid answer the serving worker's pid, so a failure on a
    connection that was served before is attributed to that worker (Failure.worker);
    None means the connection had not been answered yet."""

    def __init__(self, host, port, clients=4, path="/pid", keep_alive=True, timeout=15):
        self.host, self.port, self.path = host, port, path
        self.keep_alive, self.timeout = keep_alive, timeout
        self.t0 = time.monotonic()
        self.failures = []
        self.served = 0
        self.slowest = 0.0  # the longest a successful request took, s
        self.pids_seen = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._loop, daemon=True)
                        for _ in range(clients)]
        for t in self.threads:
            t.start()

    def _loop(self):
        conn, conn_pid = None, None
        headers = {} if self.keep_alive else {"Connection": "close"}
        while not self._stop.is_set():
            started = time.monotonic() - self.t0
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port,
                                                      timeout=self.timeout)
                    conn_pid = None
                conn.request("GET", self.path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                with self._lock:
                    if response.status != 200:
                        self.failures.append(Failure(started, time.monotonic() - self.t0,
                                                     conn_pid, "status %d" % response.status))
                    else:
                        self.served += 1
                        self.slowest = max(self.slowest,
                                           time.monotonic() - self.t0 - started)
                        if self.path.startswith("/pid"):
                            conn_pid = int(body)
                            self.pids_seen.add(conn_pid)
                if not self.keep_alive or response.getheader("Connection") == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # every failure is recorded and judged by the test
                with self._lock:
                    self.failures.append(Failure(started, time.monotonic() - self.t0,
                                                 conn_pid, repr(e)))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def now(self):
        return time.monotonic() - self.t0

    def stop(self):
        self._stop.set()
        for t in self.threads:
            t.join(self.timeout + 5)


def read_response(sock_or_file, head_only=False):
    """Reads one HTTP/1.x response: (status, headers dict lower-case, body).

    Takes a socket or, to read several pipelined responses, one file from sock.makefile("rb")
    passed every time. Understands Content-Length, chunked and read-to-close bodies;
    head_only skips the body (responses to HEAD)."""
    f = sock_or_file if hasattr(sock_or_file, "readline") else sock_or_file.makefile("rb")
    status_line = f.readline()
    if not status_line:
        raise ConnectionError("connection closed before a response")
    parts = status_line.decode("latin-1").split(" ", 2)
    status = int(parts[1])
    headers = {}
    while True:
        line = f.readline().decode("latin-1")
        if line in ("\r\n", "\n", ""):
            break
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    body = b""
    if head_only or status in (204, 304) or 100 <= status < 200:
        pass
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b""):
                    pass
                break
            body += f.read(size)
            f.readline()
    elif "content-length" in headers:
        body = f.read(int(headers["content-length"]))
    else:
        body = f.read()
    return status, headers, body
