"""Runs a real wsgid on loopback for the integration tests.

Server(app, *flags) starts `build/bin/wsgid -b 127.0.0.1:PORT flags... app` with its error
log captured, waits until the port accepts connections, and stops it with SIGTERM at the end.
WSGID_BIN_DIR overrides the binary directory. WSGID_TEST_SERVER=gunicorn runs Debian's
gunicorn with the same flags instead: a way to check a test against the reference server.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.environ.get("WSGID_BIN_DIR", os.path.join(REPO, "build", "bin"))
EXAMPLES = os.path.join(REPO, "examples")
PYTHON = "/usr/bin/python3"


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
                 bind=True):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.app = app
        self.flags = list(flags)
        self.workers = workers
        self.threads = threads
        self.chdir = chdir
        self.env = dict(os.environ, **(env or {}))
        self.bind = bind
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
        return [os.path.join(BIN_DIR, "wsgid")] + flags + self.flags + [self.app]

    def start(self, timeout=30, expect_ready=True):
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     env=self.env, start_new_session=True)
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
