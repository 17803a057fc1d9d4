#!/usr/bin/python3
"""Benchmarks wsgid against its peers on loopback: a measurement, not a timed test.

Each server runs with 2 processes (the cores of the reference machine) in its best documented
configuration for a hello-world keep-alive workload (see README.md for why each flag is there),
is warmed up, then loaded twice for --duration seconds:

  h2load --h1 -c 32 -t 2 -D DURATION   requests/s, per-client req/s min/mean (does every client
                                       get served?), mean and max request time, failures
  wrk -c 32 -t 2 -d DURATION --latency requests/s and the p50/p90/p99 latency

While it runs, the whole server process tree (the process started and every descendant) is
sampled from /proc for CPU time and peak RSS (and PSS, which does not count shared pages once per
process). The server is then stopped with its documented stop signal and must exit on its own.

Prints a markdown table with the ratio wsgid/server of requests/s and writes the raw results as
JSON with --json PATH. Exit status: 0 when every server that ran was served without errors, 1
otherwise, 2 for a usage error. A server whose software is missing is skipped with a message.

Only the standard library; run with Debian's /usr/bin/python3. Everything listens on 127.0.0.1;
every process started runs in its own session and is killed (the whole group, plus any
descendant seen) at the end, also on Ctrl-C, SIGTERM or an error.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(REPO, "examples")
PYTHON = "/usr/bin/python3"
APP = "hello:app"
BODY = b"Hello, World!"  # what examples/hello.py and the nginx ceiling both return (13 bytes)
CLIENTS = 32
CLIENT_THREADS = 2
PROCESSES = 2
ALL_SERVERS = ["wsgid", "gunicorn-gthread", "gunicorn-sync", "uwsgi", "nginx"]
ALIASES = {"gunicorn": ["gunicorn-gthread", "gunicorn-sync"], "all": ALL_SERVERS}
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class BenchError(Exception):
    """A server failed to start, serve or stop, or a load generator failed."""


def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_tool(name):
    """Path of an executable on PATH or in the sbin directories (nginx lives in /usr/sbin)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")


# ---------------------------------------------------------------------------------------------
# Process tree sampling from /proc.

def _read_stat(pid):
    """(ppid, starttime, cpu ticks, rss bytes) of pid, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: split after the last ')'.
    fields = data[data.rfind(b")") + 2:].split()
    # fields[0] is field 3 (state) of proc(5).
    ppid = int(fields[1])
    utime, stime = int(fields[11]), int(fields[12])
    starttime = int(fields[19])
    rss_pages = int(fields[21])
    return ppid, starttime, utime + stime, rss_pages * PAGE


def _read_pss(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _children(pid):
    """Direct children of pid (all its threads), from /proc/PID/task/*/children."""
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids.extend(int(x) for x in f.read().split())
        except (OSError, ValueError):
            pass
    return kids


def _children_by_scan(pid):
    """Fallback when the kernel has no /proc/PID/task/TID/children: scan every process."""
    kids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _read_stat(int(name))
            if st is not None and st[0] == pid:
                kids.append(int(name))
    return kids


_HAVE_CHILDREN_FILE = os.path.exists("/proc/self/task/%d/children" % os.getpid())


def process_tree(root):
    """{pid: (starttime, cpu ticks, rss bytes)} for root and all its descendants alive now."""
    tree = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in tree:
            continue
        st = _read_stat(pid)
        if st is None:
            continue
        tree[pid] = st[1:]
        todo.extend(_children(pid) if _HAVE_CHILDREN_FILE else _children_by_scan(pid))
    return tree


class TreeSampler(threading.Thread):
    """Samples a process tree every `interval` s: CPU time per process, peak RSS/PSS sums.

    CPU time over a window is the sum, over every process seen in the tree (keyed by pid and
    start time, so a reused pid is a new process), of its last sampled CPU ticks minus its
    ticks at the window start: processes that start or exit inside the window count too
    (up to their last sample)."""

    def __init__(self, root, interval=0.1, pss_every=5):
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.pss_every = pss_every
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.ticks = {}           # (pid, starttime) -> last sampled cpu ticks
        self.pids = {}            # pid -> starttime, every descendant ever seen
        self.max_procs = 0
        self.nprocs = 0
        self.peak_rss = 0
        self.peak_pss = 0
        self.samples = 0

    def sample(self):
        tree = process_tree(self.root)
        pss = None
        if self.samples % self.pss_every == 0:
            pss = sum(_read_pss(pid) for pid in tree)
        with self.lock:
            self.samples += 1
            rss = 0
            for pid, (start, ticks, rss_bytes) in tree.items():
                self.ticks[(pid, start)] = ticks
                self.pids[pid] = start
                rss += rss_bytes
            self.nprocs = len(tree)
            self.max_procs = max(self.max_procs, len(tree))
            self.peak_rss = max(self.peak_rss, rss)
            if pss is not None:
                self.peak_pss = max(self.peak_pss, pss)

    def run(self):
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()
        if self.is_alive():
            self.join(5)

    def window_start(self):
        """Marks the start of a measurement window; returns an opaque mark."""
        self.sample()
        with self.lock:
            mark = dict(self.ticks)
            self.peak_rss = 0
            self.peak_pss = 0
        return mark

    def window_end(self, mark):
        """CPU seconds since mark and the peak RSS/PSS (bytes) seen since then."""
        self.sample()
        with self.lock:
            ticks = sum(t - mark.get(k, 0) for k, t in self.ticks.items())
            return {"cpu_s": ticks / CLK_TCK, "peak_rss_bytes": self.peak_rss,
                    "peak_pss_bytes": self.peak_pss}

    def alive_descendants(self):
        """pids seen in the tree that still exist with the same start time (not the root)."""
        with self.lock:
            seen = dict(self.pids)
        alive = []
        for pid, start in seen.items():
            if pid == self.root:
                continue
            st = _read_stat(pid)
            if st is not None and st[1] == start:
                alive.append(pid)
        return alive


# ---------------------------------------------------------------------------------------------
# Child process bookkeeping: every process started is killed at the end, whatever happens.

_LIVE = []


def spawn(cmd, **kw):
    """Popen in a new session (its own process group), remembered for the final cleanup."""
    proc = subprocess.Popen(cmd, start_new_session=True, **kw)
    _LIVE.append(proc)
    return proc


def kill_group(proc):
    """SIGKILLs proc's process group while proc is unreaped (so the group id is still ours)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def cleanup_all():
    for proc in _LIVE:
        kill_group(proc)
    _LIVE.clear()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


# ---------------------------------------------------------------------------------------------
# Servers.

class Server:
    """One server under test. Subclasses give the command line and the stop signal."""
    name = "?"
    stop_signal = signal.SIGTERM
    keep_alive = True     # whether h2load --h1 can drive it (sync gunicorn closes every request)
    # Processes in the tree once it is fully up (master + PROCESSES workers).
    expected_procs = 1 + PROCESSES

    def __init__(self, opts, tmpdir):
        self.opts = opts
        self.tmpdir = os.path.join(tmpdir, self.name)
        os.makedirs(self.tmpdir, exist_ok=True)
        self.port = free_port()
        self.proc = None
        self.logpath = os.path.join(self.tmpdir, "server.log")
        self.logfile = None

    def missing(self):
        """Why this server cannot run here, or None."""
        return None

    def command(self):
        raise NotImplementedError

    def env(self):
        return dict(os.environ)

    def describe(self):
        return " ".join(shlex.quote(a) for a in self.command())

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.port

    def start(self):
        self.logfile = open(self.logpath, "wb")
        self.proc = spawn(self.command(), stdout=self.logfile, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, env=self.env(), cwd=self.tmpdir)

    def log_tail(self, n=30):
        try:
            with open(self.logpath, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def get(self, timeout=5):
        """One GET /; returns (status, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", "/")
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def wait_ready(self, sampler, timeout):
        """Waits until / answers 200 with the hello body and every worker process exists."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("%s exited with status %s while starting:\n%s"
                                 % (self.name, self.proc.returncode, self.log_tail()))
            try:
                status, body = self.get(timeout=2)
                if status != 200 or body != BODY:
                    raise BenchError("%s answered %d %r, expected 200 %r"
                                     % (self.name, status, body[:100], BODY))
                sampler.sample()
                if sampler.nprocs >= self.expected_procs:
                    return
                last_error = "%d of %d processes up" % (sampler.nprocs, self.expected_procs)
            except (OSError, http.client.HTTPException) as e:
                last_error = repr(e)
            time.sleep(0.05)
        raise BenchError("%s not ready after %.0f s (%s):\n%s"
                         % (self.name, timeout, last_error, self.log_tail()))

    def stop(self, sampler, timeout=20):
        """Stops with the documented signal; returns (exit status, seconds, leftover pids)."""
        result = {"signal": signal.Signals(self.stop_signal).name}
        if self.proc is None:
            return result
        t0 = time.monotonic()
        if self.proc.poll() is None:
            sampler.sample()  # know every descendant alive right now
            try:
                os.kill(self.proc.pid, self.stop_signal)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                result["timed_out"] = True
        result["seconds"] = round(time.monotonic() - t0, 3)
        result["exit_status"] = self.proc.poll()
        time.sleep(0.1)  # let workers that the master signalled finish exiting
        leftovers = sampler.alive_descendants()
        result["leftover_pids"] = leftovers
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        kill_group(self.proc)
        if self.proc in _LIVE:
            _LIVE.remove(self.proc)
        if self.logfile:
            self.logfile.close()
        result["clean"] = (not result.get("timed_out") and result["exit_status"] == 0
                           and not leftovers)
        return result


class Wsgid(Server):
    name = "wsgid"
    notes = "-w 2 --threads 1: leader/followers epoll loop in C++, the GIL only around the app"

    def __init__(self, opts, tmpdir):
        super().__init__(opts, tmpdir)
        if opts.wsgid_flags:
            self.notes += " (extra flags: %s)" % opts.wsgid_flags

    def binary(self, name):
        return os.path.join(self.opts.bin_dir, name)

    def missing(self):
        for b in ("wsgid", "wsgid-worker"):
            if not os.access(self.binary(b), os.X_OK):
                return "%s not built (run `make build`, or pass --bin-dir)" % self.binary(b)
        return None

    def command(self):
        return ([self.binary("wsgid"), "-b", "127.0.0.1:%d" % self.port,
                 "-w", str(PROCESSES), "--threads", "1",
                 "--keep-alive", str(self.opts.keep_alive),
                 "--chdir", EXAMPLES]
                + shlex.split(self.opts.wsgid_flags) + [APP])


def _have_gunicorn():
    try:
        r = subprocess.run([PYTHON, "-c", "import gunicorn"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


class GunicornGthread(Server):
    name = "gunicorn-gthread"
    notes = ("-k gthread -w 2 --threads 4: keep-alive connections wait in the worker's "
             "selector, not in a thread")

    def missing(self):
        if not os.access(PYTHON, os.X_OK) or not _have_gunicorn():
            return "gunicorn is not importable by %s (make setup-bench)" % PYTHON
        return None

    def worker_flags(self):
        return ["-k", "gthread", "--threads", "4", "--keep-alive", str(self.opts.keep_alive)]

    def command(self):
        cmd = [PYTHON, "-m", "gunicorn", "-b", "127.0.0.1:%d" % self.port,
               "-w", str(PROCESSES)] + self.worker_flags()
        if os.path.isdir("/dev/shm"):
            cmd += ["--worker-tmp-dir", "/dev/shm"]
        return cmd + ["--chdir", EXAMPLES, APP]


class GunicornSync(GunicornGthread):
    name = "gunicorn-sync"
    keep_alive = False
    notes = "-k sync -w 2: closes the connection after every response, so wrk only"

    def worker_flags(self):
        return ["-k", "sync"]


class Uwsgi(Server):
    name = "uwsgi"
    stop_signal = signal.SIGINT   # uWSGI 2.0: INT/QUIT stop, TERM is a brutal reload
    # 16 threads per worker: a thread holds its keep-alive connection for as long as the client
    # keeps it, so 2 x 16 threads are needed to serve all 32 clients at once.
    threads = CLIENTS // PROCESSES
    notes = ("--http11-socket --master --processes 2 --threads 16 --thunder-lock: "
             "a thread holds its keep-alive connection, so 32 threads for 32 clients")

    def missing(self):
        if not find_tool("uwsgi"):
            return "uwsgi not installed (make setup-bench: uwsgi-core)"
        plugin_dirs = ["/usr/lib/uwsgi/plugins", "/usr/lib/uwsgi"]
        if not any(os.path.exists(os.path.join(d, "python3_plugin.so")) for d in plugin_dirs):
            return "uwsgi python3 plugin missing (make setup-bench: uwsgi-plugin-python3)"
        return None

    def command(self):
        return [find_tool("uwsgi"), "--plugin", "python3",
                "--http11-socket", "127.0.0.1:%d" % self.port,
                "--master", "--processes", str(PROCESSES), "--threads", str(self.threads),
                "--thunder-lock", "--single-interpreter", "--need-app", "--die-on-term",
                "--disable-logging", "--chdir", EXAMPLES, "--module", APP]


class Nginx(Server):
    name = "nginx"
    stop_signal = signal.SIGQUIT  # graceful shutdown
    notes = 'return 200 "Hello, World!" with worker_processes 2: the ceiling, no Python'

    def missing(self):
        if not find_tool("nginx"):
            return "nginx not installed (make setup-bench: nginx-light)"
        return None

    def conf_path(self):
        return os.path.join(self.tmpdir, "nginx.conf")

    def write_conf(self):
        d = self.tmpdir
        os.makedirs(os.path.join(d, "logs"), exist_ok=True)
        temps = "\n".join("  %s_temp_path %s;" % (k, os.path.join(d, k))
                          for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = """\
# Generated by tests/bench/run.py.
worker_processes %(procs)d;
daemon off;
master_process on;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events {
  worker_connections 1024;
}
http {
  access_log off;
  # h2load --h1 stalls a client whose connection nginx closes after the default 1000 requests.
  keepalive_requests 1000000000;
  keepalive_timeout %(ka)ds;
%(temps)s
  server {
    listen 127.0.0.1:%(port)d;
    location / {
      default_type text/plain;
      return 200 "Hello, World!";
    }
  }
}
""" % {"procs": PROCESSES, "d": d, "ka": self.opts.keep_alive, "temps": temps,
            "port": self.port}
        with open(self.conf_path(), "w") as f:
            f.write(conf)

    def command(self):
        return [find_tool("nginx"), "-p", self.tmpdir, "-c", self.conf_path(),
                "-e", os.path.join(self.tmpdir, "error.log")]

    def start(self):
        self.write_conf()
        super().start()

    def log_tail(self, n=30):
        out = super().log_tail(n)
        try:
            with open(os.path.join(self.tmpdir, "error.log"), "rb") as f:
                out += "\n" + "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            pass
        return out


SERVER_CLASSES = {c.name: c for c in (Wsgid, GunicornGthread, GunicornSync, Uwsgi, Nginx)}


# ---------------------------------------------------------------------------------------------
# Load generators and their output.

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text):
    """'474us' / '11.63ms' / '2.00s' -> seconds."""
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError("bad duration %r" % text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_h2load(out):
    r = {}
    m = re.search(r"finished in ([0-9.]+\w+), ([0-9.]+) req/s", out)
    if not m:
        raise BenchError("h2load printed no result:\n" + out[-2000:])
    r["elapsed_s"] = parse_duration(m.group(1))
    r["rps"] = float(m.group(2))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    if m:
        keys = ["total", "started", "done", "succeeded", "failed", "errored", "timeout"]
        r.update({"requests_" + k: int(v) for k, v in zip(keys, m.groups())})
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if m:
        r["status_2xx"], r["status_3xx"], r["status_4xx"], r["status_5xx"] = map(int, m.groups())
    m = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if m:
        r["latency_min_ms"] = parse_duration(m.group(1)) * 1e3
        r["latency_max_ms"] = parse_duration(m.group(2)) * 1e3
        r["latency_mean_ms"] = parse_duration(m.group(3)) * 1e3
        r["latency_sd_ms"] = parse_duration(m.group(4)) * 1e3
    m = re.search(r"req/s\s+:\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)", out)
    if m:
        mn, mx, mean, sd = map(float, m.groups())
        r["client_rps_min"], r["client_rps_max"] = mn, mx
        r["client_rps_mean"], r["client_rps_sd"] = mean, sd
        r["client_min_over_mean"] = mn / mean if mean > 0 else 0.0
    r["errors"] = (r.get("requests_failed", 0) + r.get("requests_errored", 0)
                   + r.get("requests_timeout", 0) + r.get("status_3xx", 0)
                   + r.get("status_4xx", 0) + r.get("status_5xx", 0))
    r["requests"] = r.get("requests_succeeded", 0)
    return r


def parse_wrk(out):
    r = {}
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not m:
        raise BenchError("wrk printed no result:\n" + out[-2000:])
    r["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in ([0-9.]+\w+)", out)
    if m:
        r["requests"] = int(m.group(1))
        r["elapsed_s"] = parse_duration(m.group(2))
    m = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    if m:
        r["latency_mean_ms"] = parse_duration(m.group(1)) * 1e3
        r["latency_sd_ms"] = parse_duration(m.group(2)) * 1e3
        r["latency_max_ms"] = parse_duration(m.group(3)) * 1e3
    for pct in ("50", "75", "90", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % pct, out, re.M)
        if m:
            r["p%s_ms" % pct] = parse_duration(m.group(1)) * 1e3
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    socket_errors = dict(zip(("connect", "read", "write", "timeout"),
                             map(int, m.groups()))) if m else {}
    r["socket_errors"] = socket_errors
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non_2xx_3xx"] = int(m.group(1)) if m else 0
    r["errors"] = sum(socket_errors.values()) + r["non_2xx_3xx"]
    return r


def run_client(cmd, timeout):
    """Runs a load generator in its own session; returns (stdout+stderr text, client cpu s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                 stdin=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise BenchError("%s did not finish within %.0f s" % (cmd[0], timeout))
    finally:
        # Forgotten only once it has exited; on Ctrl-C it stays in _LIVE for cleanup_all().
        if proc.poll() is not None:
            _LIVE.remove(proc)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = out.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise BenchError("%s exited with %d:\n%s" % (cmd[0], proc.returncode, text[-2000:]))
    return text, cpu


def h2load_cmd(url, duration):
    return [find_tool("h2load"), "--h1", "-c", str(CLIENTS), "-t", str(CLIENT_THREADS),
            "-D", str(duration), url]


def wrk_cmd(url, duration):
    return [find_tool("wrk"), "-c", str(CLIENTS), "-t", str(CLIENT_THREADS),
            "-d", "%ds" % duration, "--timeout", "5s", "--latency", url]


# ---------------------------------------------------------------------------------------------
# One server, start to stop.

def bench_server(server, opts, tools):
    result = {"name": server.name, "command": server.command(), "notes": server.notes,
              "keep_alive_clients": server.keep_alive}
    sampler = None
    try:
        t0 = time.monotonic()
        server.start()
        sampler = TreeSampler(server.proc.pid, interval=opts.sample_interval)
        server.wait_ready(sampler, opts.start_timeout)
        result["startup_s"] = round(time.monotonic() - t0, 3)
        sampler.start()

        # Warm-up: a few requests (--quick) or a short run of the load generator.
        for _ in range(20):
            status, body = server.get()
            if status != 200 or body != BODY:
                raise BenchError("%s answered %d %r" % (server.name, status, body[:100]))
        if opts.warmup > 0:
            if server.keep_alive and tools.get("h2load"):
                run_client(h2load_cmd(server.url, opts.warmup), opts.warmup + 30)
            elif tools.get("wrk"):
                run_client(wrk_cmd(server.url, opts.warmup), opts.warmup + 30)
        life = sampler.window_start()

        phases = []
        if server.keep_alive and tools.get("h2load"):
            phases.append(("h2load", h2load_cmd, parse_h2load))
        elif not server.keep_alive:
            result["h2load"] = {"skipped": "no keep-alive: h2load --h1 stalls on it"}
        else:
            result["h2load"] = {"skipped": "h2load not installed (nghttp2-client)"}
        if tools.get("wrk"):
            phases.append(("wrk", wrk_cmd, parse_wrk))
        else:
            result["wrk"] = {"skipped": "wrk not installed"}

        for tool, make_cmd, parse in phases:
            log("%s: %s for %d s" % (server.name, tool, opts.duration))
            mark = sampler.window_start()
            out, client_cpu = run_client(make_cmd(server.url, opts.duration),
                                         opts.duration + 30)
            r = parse(out)
            r.update(sampler.window_end(mark))
            r["client_cpu_s"] = round(client_cpu, 3)
            if r.get("requests"):
                r["server_cpu_ms_per_1k_requests"] = r["cpu_s"] * 1e6 / r["requests"]
            r["output"] = out[-4000:]
            result[tool] = r
            if server.proc.poll() is not None:
                raise BenchError("%s exited with %s during %s:\n%s" % (
                    server.name, server.proc.returncode, tool, server.log_tail()))

        whole = sampler.window_end(life)
        result["server_cpu_s"] = whole["cpu_s"]
        # Peak over both load phases (window_end resets nothing; window_start did).
        result["peak_rss_bytes"] = max([result[t].get("peak_rss_bytes", 0)
                                        for t in ("h2load", "wrk") if t in result] + [0])
        result["peak_pss_bytes"] = max([result[t].get("peak_pss_bytes", 0)
                                        for t in ("h2load", "wrk") if t in result] + [0])
        result["max_processes"] = sampler.max_procs
    except (BenchError, OSError, http.client.HTTPException) as e:
        result["error"] = str(e) or repr(e)
        log("%s: ERROR: %s" % (server.name, e))
    finally:
        if sampler is not None:
            sampler.stop()
            result["stop"] = server.stop(sampler)
            if not result["stop"].get("clean"):
                result.setdefault("error", "did not stop cleanly: %s" % result["stop"])
                log("%s: did not stop cleanly: %s\n%s" % (server.name, result["stop"],
                                                          server.log_tail()))
        elif server.proc is not None:
            kill_group(server.proc)
    return result


# ---------------------------------------------------------------------------------------------
# Report.

def fmt(v, spec="%.0f"):
    return "n/a" if v is None else spec % v


def ratio(num, den):
    if not num or not den:
        return None
    return num / den


def table(results):
    ran = [r for r in results if "skipped" not in r]
    wsgid = next((r for r in ran if r["name"] == "wsgid" and "error" not in r), None)
    w_h2 = wsgid and wsgid.get("h2load", {}).get("rps")
    w_wrk = wsgid and wsgid.get("wrk", {}).get("rps")
    head = ["server", "h2load req/s", "wsgid/x h2load", "client min/mean", "mean ms",
            "max ms", "wrk req/s", "wsgid/x wrk", "p50 ms", "p90 ms", "p99 ms", "errors",
            "CPU s", "CPU ms/1k req", "peak RSS MB", "peak PSS MB"]
    rows = []
    for r in ran:
        h2 = r.get("h2load", {})
        wk = r.get("wrk", {})
        errs = None
        if "rps" in h2 or "rps" in wk:
            errs = h2.get("errors", 0) + wk.get("errors", 0)
        reqs = h2.get("requests", 0) + wk.get("requests", 0)
        cpu = r.get("server_cpu_s")
        name = r["name"] + (" (FAILED)" if "error" in r else "")
        rows.append([
            name, fmt(h2.get("rps")), fmt(ratio(w_h2, h2.get("rps")), "%.2f"),
            fmt(h2.get("client_min_over_mean"), "%.2f"),
            fmt(h2.get("latency_mean_ms"), "%.2f"), fmt(h2.get("latency_max_ms"), "%.1f"),
            fmt(wk.get("rps")), fmt(ratio(w_wrk, wk.get("rps")), "%.2f"),
            fmt(wk.get("p50_ms"), "%.2f"), fmt(wk.get("p90_ms"), "%.2f"),
            fmt(wk.get("p99_ms"), "%.2f"), fmt(errs, "%d"), fmt(cpu, "%.1f"),
            fmt(cpu * 1e6 / reqs if cpu is not None and reqs else None, "%.1f"),
            fmt(r.get("peak_rss_bytes", 0) / 2**20 if r.get("peak_rss_bytes") else None,
                "%.1f"),
            fmt(r.get("peak_pss_bytes", 0) / 2**20 if r.get("peak_pss_bytes") else None,
                "%.1f"),
        ])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine_info():
    info = {"nproc": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        info["loadavg_before"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    return info


def tool_versions(tools):
    v = {}
    for name, cmd in (("h2load", ["h2load", "--version"]), ("wrk", ["wrk", "-v"]),
                      ("nginx", ["nginx", "-v"]), ("uwsgi", ["uwsgi", "--version"]),
                      ("gunicorn", [PYTHON, "-m", "gunicorn", "--version"])):
        exe = find_tool(cmd[0]) if cmd[0] != PYTHON else PYTHON
        if not exe:
            continue
        try:
            r = subprocess.run([exe] + cmd[1:], capture_output=True, text=True, timeout=20)
            text = (r.stdout + r.stderr).strip().splitlines()
            v[name] = text[0] if text else ""
        except (OSError, subprocess.TimeoutExpired):
            pass
    return v


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--servers", default=",".join(ALL_SERVERS),
                   help="comma-separated subset of %s (gunicorn = both gunicorn workers)"
                   % ",".join(ALL_SERVERS))
    p.add_argument("--duration", type=int, default=10,
                   help="seconds of each measured run (h2load, then wrk); default 10")
    p.add_argument("--warmup", type=int, default=None,
                   help="seconds of load before measuring; default 2 (0 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="1 s per load run and no warm-up beyond a few requests (smoke test)")
    p.add_argument("--bin-dir", default=os.path.join(REPO, "build", "bin"),
                   help="where wsgid and wsgid-worker are (default build/bin)")
    p.add_argument("--wsgid-flags", default="",
                   help="extra flags for wsgid, one shell-quoted string")
    p.add_argument("--json", metavar="PATH", help="write the raw results here")
    p.add_argument("--start-timeout", type=float, default=30,
                   help="seconds a server gets to answer and start its workers")
    p.add_argument("--sample-interval", type=float, default=0.1,
                   help="seconds between /proc samples of the server tree")
    p.add_argument("--keep-tmp", action="store_true",
                   help="keep the temp dir (configs, server logs)")
    opts = p.parse_args(argv)
    if opts.quick:
        opts.duration = 1
        if opts.warmup is None:
            opts.warmup = 0
    if opts.warmup is None:
        opts.warmup = 2
    if opts.duration < 1:
        p.error("--duration must be at least 1")
    # Idle keep-alive timeout given to every server: longer than anything the run does.
    opts.keep_alive = opts.duration + opts.warmup + 60
    opts.bin_dir = os.path.abspath(opts.bin_dir)
    names = []
    for n in opts.servers.split(","):
        n = n.strip()
        if not n:
            continue
        for m in ALIASES.get(n, [n]):
            if m not in SERVER_CLASSES:
                p.error("unknown server %r (known: %s)" % (m, ", ".join(ALL_SERVERS)))
            if m not in names:
                names.append(m)
    if not names:
        p.error("--servers is empty")
    opts.server_names = names
    return opts


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)
    tools = {t: find_tool(t) for t in ("h2load", "wrk")}
    for t, path in tools.items():
        if not path:
            log("%s not found: its columns will be n/a (make setup-bench)" % t)
    if not any(tools.values()):
        log("neither h2load nor wrk is installed: nothing to measure (make setup-bench)")
        return 1
    tmpdir = tempfile.mkdtemp(prefix="wsgid-bench-")
    results = []
    report = {"started": datetime.datetime.now().isoformat(timespec="seconds"),
              "argv": sys.argv, "duration_s": opts.duration, "warmup_s": opts.warmup,
              "clients": CLIENTS, "client_threads": CLIENT_THREADS,
              "server_processes": PROCESSES, "machine": machine_info(),
              "tools": {k: v for k, v in tools.items()}, "results": results}
    try:
        report["versions"] = tool_versions(tools)
        for name in opts.server_names:
            server = SERVER_CLASSES[name](opts, tmpdir)
            why = server.missing()
            if why:
                log("%s: skipped: %s" % (name, why))
                results.append({"name": name, "skipped": why})
                continue
            log("%s: %s" % (name, server.describe()))
            results.append(bench_server(server, opts, tools))
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        report["interrupted"] = True
    finally:
        cleanup_all()
        if not opts.keep_tmp:
            shutil.rmtree(tmpdir, ignore_errors=True)
        else:
            log("temp dir kept: " + tmpdir)
    report["finished"] = datetime.datetime.now().isoformat(timespec="seconds")

    print()
    print("wsgid benchmark: %d clients, %d client threads, %d s per run, %d server processes, "
          "%s CPUs (%s)" % (CLIENTS, CLIENT_THREADS, opts.duration, PROCESSES,
                            report["machine"].get("nproc"),
                            report["machine"].get("cpu_model", "?")))
    print()
    print(table(results))
    print()
    for r in results:
        if "notes" in r:
            print("- %s: %s" % (r["name"], r["notes"]))
    for r in results:
        if "skipped" in r:
            print("- %s: skipped (%s)" % (r["name"], r["skipped"]))
        elif "error" in r:
            print("- %s: FAILED: %s" % (r["name"], r["error"].splitlines()[0]))
        elif not r.get("keep_alive_clients"):
            print("- %s: h2load n/a (no keep-alive: h2load --h1 stalls on it)" % r["name"])
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(report, f, indent=2, sort_keys=True)
        log("raw results written to " + opts.json)
    if report.get("interrupted"):
        return 130
    bad = [r for r in results if "skipped" not in r and (
        "error" in r or any(r.get(t, {}).get("errors") for t in ("h2load", "wrk")))]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
