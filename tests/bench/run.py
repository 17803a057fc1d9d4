#!/usr/bin/python3
"""Benchmarks wsgid against its peers on loopback: a measurement, not a timed test.

For each workload and each server: start the server with 2 processes (the cores of the
reference machine) in its best documented configuration (README.md says why each flag is
there), check it answers correctly, warm it up, measure, stop it with its documented stop
signal (it must exit on its own). Workloads (--workloads):

  hello     GET, 13-byte body (examples/hello.py)          h2load --h1 + wrk, 32 clients
  body10k   GET, 10 KiB body (examples/bench_body.py)       h2load --h1 + wrk
  file      GET, 1 MiB file via wsgi.file_wrapper            h2load --h1 + wrk
  post64k   POST of 64 KiB echoed back (bench_echo.py)      h2load --h1 + wrk
  flask     Flask route answering JSON (bench_flask.py)     h2load --h1 + wrk
  idle      hello with 10,000 idle keep-alive connections held open: wrk before and while
            they are held (p99 and RSS added)
  slow      hello while 16 clients trickle their request headers a byte every 100 ms: wrk

h2load gives requests/s and the per-client fairness (min/mean of each client's req/s); wrk
the p50/p90/p99 latency. The server's whole process tree is sampled from /proc for CPU time and
peak RSS/PSS. Prints one markdown table per workload with wsgid's ratio to each server, checks
the targets of issue 6, and (unless --quick) writes tests/bench/results/results.md plus PNG
charts of requests/s and p99 there. --json PATH writes every raw number.

Exit status: 0 when every server started, served and stopped cleanly and wsgid and nginx
answered every request; a peer's failed requests are a result, not a failure of the run. 1
otherwise, 2 for a usage error, 130 when interrupted.

Only loopback; every process started runs in its own session and is killed at the end (its
group, plus any descendant seen), also on Ctrl-C, SIGTERM or an error. Use /usr/bin/python3.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (BenchError, ServerProcess, TreeSampler, cleanup_all,  # noqa: E402
                      find_tool, have_module, kill_group, loadavg, log, parse_h2load,
                      parse_wrk, raise_interrupt, run_client)
from clients import IdleConnections, SlowClients  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
EXAMPLES = os.path.join(REPO, "examples")
RESULTS_DIR = os.path.join(HERE, "results")
PYTHON = "/usr/bin/python3"
CLIENTS = 32
CLIENT_THREADS = 2
PROCESSES = 2
HELLO = b"Hello, World!"
BODY10K = b"0123456789abcdef" * 640          # what examples/bench_body.py returns
FILE_SIZE = 1024 * 1024
POST_SIZE = 64 * 1024
ALL_SERVERS = ["wsgid", "gunicorn-gthread", "gunicorn-sync", "uwsgi", "waitress", "nginx"]
ALIASES = {"gunicorn": ["gunicorn-gthread", "gunicorn-sync"], "all": ALL_SERVERS}
PEERS = ["gunicorn-gthread", "gunicorn-sync", "uwsgi", "waitress"]  # nginx is the ceiling


# ---------------------------------------------------------------------------------------------
# Workloads.

class Workload:
    """What is requested, how the answer is checked, and how nginx serves the same bytes."""

    def __init__(self, name, title, app, kind="load", path="/", method="GET", body=None,
                 nginx=None, check=None):
        self.name, self.title, self.app, self.kind = name, title, app, kind
        self.path, self.method, self.body = path, method, body
        self.nginx = nginx      # None: nginx does not apply; else "return" or a file name
        self.check = check      # check(body bytes) -> error text or None

    def url(self, port):
        return "http://127.0.0.1:%d%s" % (port, self.path)


def _expect(expected):
    def check(body):
        if body != expected:
            return "expected %d bytes %r..., got %d bytes %r..." % (
                len(expected), expected[:20], len(body), body[:60])
        return None
    return check


def _expect_len(n):
    def check(body):
        return None if len(body) == n else "expected %d bytes, got %d" % (n, len(body))
    return check


def _expect_json(body):
    try:
        doc = json.loads(body)
    except ValueError:
        return "not JSON: %r" % body[:100]
    return None if doc.get("message") == "Hello, World!" else "unexpected JSON %r" % doc


POST_BODY = bytes(range(256)) * (POST_SIZE // 256)

WORKLOADS = {w.name: w for w in [
    Workload("hello", "hello world (13 bytes)", "hello:app", nginx="return",
             check=_expect(HELLO)),
    Workload("body10k", "10 KiB body", "bench_body:app", nginx="body10k.bin",
             check=_expect(BODY10K)),
    Workload("file", "1 MiB file via wsgi.file_wrapper", "bench_file:app", nginx="file1m.bin",
             check=_expect_len(FILE_SIZE)),
    Workload("post64k", "POST 64 KiB, echoed", "bench_echo:app", method="POST",
             body=POST_BODY, check=_expect(POST_BODY)),
    Workload("flask", "Flask route, JSON response", "bench_flask:app", path="/json",
             check=_expect_json),
    Workload("idle", "10,000 idle keep-alive connections held", "hello:app", kind="idle",
             nginx="return", check=_expect(HELLO)),
    Workload("slow", "slow clients trickling headers", "hello:app", kind="slow",
             nginx="return", check=_expect(HELLO)),
]}


# ---------------------------------------------------------------------------------------------
# Servers.

class Server(ServerProcess):
    """One server under test for one workload. Subclasses give the command and stop signal;
    benchlib.ServerProcess starts, polls and stops it."""
    label = "?"
    keep_alive = True     # whether h2load --h1 can drive it (sync gunicorn closes every request)
    expected_procs = 1 + PROCESSES   # processes once fully up (master + workers)

    def __init__(self, opts, tmpdir, workload):
        self.opts = opts
        self.workload = workload
        server_dir = os.path.join(tmpdir, "%s-%s" % (workload.name, self.name))
        os.makedirs(server_dir, exist_ok=True)
        super().__init__(server_dir)

    def missing(self):
        """Why this server cannot run here at all, or None."""
        return None

    def not_applicable(self):
        """Why this workload does not apply to this server, or None."""
        if self.workload.kind == "idle" and not self.keep_alive:
            return "closes every connection after its response: nothing to hold idle"
        return None

    def env(self):
        env = dict(os.environ)
        env["WSGID_BENCH_FILE"] = self.opts.file_path
        return env

    def describe(self):
        return " ".join(shlex.quote(a) for a in self.command())

    @property
    def url(self):
        return self.workload.url(self.port)

    def request(self, timeout=5):
        """One request of the workload; returns (status, body)."""
        w = self.workload
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/octet-stream"} if w.body else {}
            conn.request(w.method, w.path, body=w.body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def check_answer(self, status, body):
        if status != 200:
            raise BenchError("%s answered %d %r" % (self.name, status, body[:100]))
        why = self.workload.check(body)
        if why:
            raise BenchError("%s: wrong answer: %s" % (self.name, why))

    def wait_ready(self, sampler, timeout):
        """Waits until the workload's request is answered right and every process exists."""
        def probe():
            status, body = self.request(timeout=2)
            self.check_answer(status, body)
            sampler.sample()
            if sampler.nprocs >= self.expected_procs:
                return None
            return "%d of %d processes up" % (sampler.nprocs, self.expected_procs)
        self.poll_ready(probe, timeout, 0.05)

    def stop(self, sampler, timeout=20):
        """Stops with the documented signal; returns exit status, seconds, leftover pids."""
        return super().stop(timeout, sampler)


class Wsgid(Server):
    name = "wsgid"
    label = "wsgid, 2 workers x 1 thread"

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
                 "--ops-bind", "off", "--control-socket", "off",
                 "--chdir", EXAMPLES]
                + shlex.split(self.opts.wsgid_flags) + [self.workload.app])


class WsgidAlt(Wsgid):
    """wsgid from a second bin dir (--alt-bin-dir), e.g. the worker built against another
    CPython (build-py3.12/bin beside build/bin): its wsgid/x ratio compares the two builds."""
    name = "wsgid-alt"
    label = "wsgid --alt-bin-dir, 2 workers x 1 thread"

    def binary(self, name):
        return os.path.join(self.opts.alt_bin_dir or "", name)

    def missing(self):
        if not self.opts.alt_bin_dir:
            return "no --alt-bin-dir given"
        return super().missing()


class GunicornGthread(Server):
    name = "gunicorn-gthread"
    label = "Gunicorn gthread, 2 x 4 threads"

    def missing(self):
        if not os.access(PYTHON, os.X_OK) or not have_module("gunicorn"):
            return "gunicorn is not importable by %s (make setup-bench)" % PYTHON
        return None

    def worker_flags(self):
        # --worker-connections: gthread's cap on the connections a worker holds (default
        # 1000); raised so 10,000 idle keep-alive connections fit in 2 workers.
        return ["-k", "gthread", "--threads", "4", "--worker-connections", "12000",
                "--keep-alive", str(self.opts.keep_alive)]

    def command(self):
        cmd = [PYTHON, "-m", "gunicorn", "-b", "127.0.0.1:%d" % self.port,
               "-w", str(PROCESSES)] + self.worker_flags()
        if os.path.isdir("/dev/shm"):
            cmd += ["--worker-tmp-dir", "/dev/shm"]
        return cmd + ["--chdir", EXAMPLES, self.workload.app]


class GunicornSync(GunicornGthread):
    name = "gunicorn-sync"
    label = "Gunicorn sync, 2 workers (no keep-alive)"
    keep_alive = False

    def worker_flags(self):
        return ["-k", "sync"]


class Uwsgi(Server):
    name = "uwsgi"
    label = "uWSGI --http11-socket, 2 x 16 threads"
    stop_signal = signal.SIGINT   # uWSGI 2.0: INT/QUIT stop, TERM is a brutal reload
    # A thread holds its keep-alive connection for as long as the client keeps it, so
    # 2 x 16 threads are needed to serve all 32 clients at once.
    threads = CLIENTS // PROCESSES

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
                "--listen", "1024", "--disable-logging", "--chdir", EXAMPLES,
                "--module", self.workload.app]


class Waitress(Server):
    name = "waitress"
    label = "waitress, 2 processes x 4 threads"

    def missing(self):
        if not have_module("waitress"):
            return "waitress is not importable by %s (apt-get install python3-waitress)" % PYTHON
        return None

    def command(self):
        # waitress is one process; waitress_prefork.py forks 2 sharing the listening socket.
        return [PYTHON, os.path.join(HERE, "waitress_prefork.py"),
                "--bind", "127.0.0.1:%d" % self.port, "--processes", str(PROCESSES),
                "--chdir", EXAMPLES, self.workload.app,
                "threads=4", "connection_limit=12000", "asyncore_use_poll=true",
                "channel_timeout=%d" % self.opts.keep_alive, "backlog=2048"]


class Nginx(Server):
    name = "nginx"
    label = "nginx (the ceiling: no Python)"
    stop_signal = signal.SIGQUIT  # graceful shutdown

    def missing(self):
        if not find_tool("nginx"):
            return "nginx not installed (make setup-bench: nginx-light)"
        return None

    def not_applicable(self):
        if self.workload.nginx is None:
            return "needs an application (nginx-light cannot echo a body or run Flask)"
        return None

    def conf_path(self):
        return os.path.join(self.tmpdir, "nginx.conf")

    def write_conf(self):
        d = self.tmpdir
        os.makedirs(os.path.join(d, "logs"), exist_ok=True)
        temps = "\n".join("  %s_temp_path %s;" % (k, os.path.join(d, k))
                          for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        if self.workload.nginx == "return":
            location = ('      default_type text/plain;\n'
                        '      return 200 "Hello, World!";')
        else:  # the same bytes as the app, from a file (a return string is capped at 4 KiB)
            location = ("      default_type application/octet-stream;\n"
                        "      root %s;\n      try_files /%s =404;"
                        % (self.opts.data_dir, self.workload.nginx))
        conf = """\
# Generated by tests/bench/run.py.
worker_processes %(procs)d;
daemon off;
master_process on;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events {
  # 10,000 idle connections plus the load must fit in 2 workers.
  worker_connections 12000;
}
http {
  access_log off;
  # h2load --h1 stalls a client whose connection nginx closes after the default 1000 requests.
  keepalive_requests 1000000000;
  keepalive_timeout %(ka)ds;
  sendfile on;
  tcp_nopush on;
  open_file_cache max=16 inactive=60s;
%(temps)s
  server {
    listen 127.0.0.1:%(port)d;
    location / {
%(location)s
    }
  }
}
""" % {"procs": PROCESSES, "d": d, "ka": self.opts.keep_alive, "temps": temps,
            "port": self.port, "location": location}
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


SERVER_CLASSES = {c.name: c for c in (Wsgid, WsgidAlt, GunicornGthread, GunicornSync, Uwsgi, Waitress,
                                      Nginx)}


# ---------------------------------------------------------------------------------------------
# Load generators for a workload.

def h2load_cmd(server, duration, opts):
    cmd = [find_tool("h2load"), "--h1", "-c", str(CLIENTS), "-t", str(CLIENT_THREADS),
           "-D", str(duration)]
    if server.workload.body is not None:
        cmd += ["-d", opts.post_file, "-H", "Content-Type: application/octet-stream"]
    return cmd + [server.url]


def wrk_cmd(server, duration, opts, clients=CLIENTS):
    cmd = [find_tool("wrk"), "-c", str(clients), "-t", str(CLIENT_THREADS),
           "-d", "%ds" % duration, "--timeout", "5s", "--latency"]
    if server.workload.body is not None:
        cmd += ["-s", opts.wrk_post_script]
    return cmd + [server.url]


def measure(server, sampler, tool, opts, tools, label=None):
    """One measured run of h2load or wrk; returns its parsed numbers and the tree's CPU/RSS."""
    make, parse = {"h2load": (h2load_cmd, parse_h2load), "wrk": (wrk_cmd, parse_wrk)}[tool]
    log("%s/%s: %s%s for %d s" % (server.workload.name, server.name, tool,
                                  " (%s)" % label if label else "", opts.duration))
    mark = sampler.window_start()
    out, client_cpu = run_client(make(server, opts.duration, opts), opts.duration + 30)
    r = parse(out)
    if not r.get("requests") and not r.get("rps"):
        # Nothing answered during the whole run: wrk then prints 0.00us percentiles, which
        # must not read as a fast server. Every client counts as failed.
        r["no_response"] = True
        r["errors"] = r.get("errors", 0) + CLIENTS
        for k in ("p50_ms", "p75_ms", "p90_ms", "p99_ms", "latency_mean_ms", "latency_max_ms"):
            r.pop(k, None)
    r.update(sampler.window_end(mark))
    r["client_cpu_s"] = round(client_cpu, 3)
    if r.get("requests"):
        r["server_cpu_ms_per_1k_requests"] = r["cpu_s"] * 1e6 / r["requests"]
    r["output"] = out[-4000:]
    if server.proc.poll() is not None:
        raise BenchError("%s exited with %s during %s:\n%s" % (
            server.name, server.proc.returncode, tool, server.log_tail()))
    return r


def warm_up(server, opts, tools):
    for _ in range(20):
        server.check_answer(*server.request())
    if opts.warmup > 0:
        if server.keep_alive and tools.get("h2load"):
            run_client(h2load_cmd(server, opts.warmup, opts), opts.warmup + 30)
        elif tools.get("wrk"):
            run_client(wrk_cmd(server, opts.warmup, opts), opts.warmup + 30)


# ---------------------------------------------------------------------------------------------
# One server, one workload, start to stop.

def run_load(server, sampler, opts, tools, result):
    if server.keep_alive and tools.get("h2load"):
        result["h2load"] = measure(server, sampler, "h2load", opts, tools)
    elif not server.keep_alive:
        result["h2load"] = {"skipped": "no keep-alive: h2load --h1 stalls on it"}
    else:
        result["h2load"] = {"skipped": "h2load not installed (nghttp2-client)"}
    if tools.get("wrk"):
        result["wrk"] = measure(server, sampler, "wrk", opts, tools)
    else:
        result["wrk"] = {"skipped": "wrk not installed"}


def run_idle(server, sampler, opts, tools, result):
    if not tools.get("wrk"):
        raise BenchError("the idle workload needs wrk")
    result["wrk_base"] = measure(server, sampler, "wrk", opts, tools, "no idle connections")
    idle = IdleConnections(server.port, opts.idle_connections,
                           deadline_s=max(10.0, opts.idle_connections / 300.0))
    try:
        log("%s/%s: opening %d idle keep-alive connections" % (
            server.workload.name, server.name, opts.idle_connections))
        mark = sampler.window_start()
        stats = idle.open()
        time.sleep(0.5)
        held = sampler.window_end(mark)
        stats["rss_after_open_bytes"] = sampler.current_rss
        stats["peak_rss_while_opening_bytes"] = held["peak_rss_bytes"]
        log("%s/%s: idle: %s" % (server.workload.name, server.name, {
            k: stats[k] for k in ("held", "unanswered", "failed", "open_s", "stopped_by")}))
        result["idle_stats"] = stats
        result["wrk"] = measure(server, sampler, "wrk", opts, tools,
                                "%d idle connections held" % stats["held"])
        idle.check()
    finally:
        idle.close()


def run_slow(server, sampler, opts, tools, result):
    if not tools.get("wrk"):
        raise BenchError("the slow workload needs wrk")
    slow = SlowClients(server.port, opts.slow_clients, interval=opts.slow_interval)
    slow.start()
    try:
        time.sleep(min(1.0, opts.duration / 2))  # every slow client is connected and trickling
        result["wrk"] = measure(server, sampler, "wrk", opts, tools,
                                "%d slow clients trickling" % opts.slow_clients)
    finally:
        result["slow_stats"] = slow.stop()
    if result["slow_stats"].get("error"):
        raise BenchError("slow clients failed: %s" % result["slow_stats"]["error"])


def bench_one(server, opts, tools):
    w = server.workload
    result = {"name": server.name, "workload": w.name, "label": server.label,
              "command": server.command(), "keep_alive_clients": server.keep_alive}
    sampler = None
    try:
        t0 = time.monotonic()
        server.start()
        sampler = TreeSampler(server.proc.pid, interval=opts.sample_interval)
        server.wait_ready(sampler, opts.start_timeout)
        result["startup_s"] = round(time.monotonic() - t0, 3)
        sampler.start()
        warm_up(server, opts, tools)
        life = sampler.window_start()
        {"load": run_load, "idle": run_idle, "slow": run_slow}[w.kind](
            server, sampler, opts, tools, result)
        whole = sampler.window_end(life)
        result["server_cpu_s"] = whole["cpu_s"]
        phases = [v for v in result.values() if isinstance(v, dict) and "rps" in v]
        result["peak_rss_bytes"] = max([p.get("peak_rss_bytes", 0) for p in phases] + [0])
        result["peak_pss_bytes"] = max([p.get("peak_pss_bytes", 0) for p in phases] + [0])
        result["max_processes"] = sampler.max_procs
        # Still answering right after the load?
        server.check_answer(*server.request())
    except (BenchError, OSError, http.client.HTTPException) as e:
        result["error"] = str(e) or repr(e)
        log("%s/%s: ERROR: %s" % (w.name, server.name, result["error"]))
    finally:
        if sampler is not None:
            sampler.stop()
            result["stop"] = server.stop(sampler)
            if not result["stop"].get("clean"):
                result.setdefault("error", "did not stop cleanly: %s" % result["stop"])
                log("%s/%s: did not stop cleanly: %s\n%s" % (
                    w.name, server.name, result["stop"], server.log_tail()))
        elif server.proc is not None:
            kill_group(server.proc)
            result["stop"] = {"clean": False, "killed": True}
        if "error" in result:
            result["log_tail"] = server.log_tail(40)
    return result


# ---------------------------------------------------------------------------------------------
# Setup: data files, limits, machine description.

def write_data_files(opts, tmpdir):
    opts.data_dir = os.path.join(tmpdir, "data")
    os.makedirs(opts.data_dir, exist_ok=True)
    with open(os.path.join(opts.data_dir, "body10k.bin"), "wb") as f:
        f.write(BODY10K)
    opts.file_path = os.path.join(opts.data_dir, "file1m.bin")
    with open(opts.file_path, "wb") as f:
        f.write(bytes(range(256)) * (FILE_SIZE // 256))
    opts.post_file = os.path.join(opts.data_dir, "post64k.bin")
    with open(opts.post_file, "wb") as f:
        f.write(POST_BODY)
    # wrk's POST: the body from the same bytes (a Lua string built at load time).
    opts.wrk_post_script = os.path.join(opts.data_dir, "post.lua")
    with open(opts.wrk_post_script, "w") as f:
        f.write('wrk.method = "POST"\n'
                'local f = assert(io.open("%s", "rb"))\n'
                'wrk.body = f:read("*a")\n'
                'f:close()\n'
                'wrk.headers["Content-Type"] = "application/octet-stream"\n' % opts.post_file)


def raise_nofile(need):
    """Raises this process's soft open-file limit to the hard limit; returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as e:
            log("cannot raise the open-file limit to %d: %s" % (want, e))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def machine_info():
    info = {"nproc": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
            elif line.startswith("Hypervisor vendor:"):
                info["hypervisor"] = line.split(":", 1)[1].strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        with open("/proc/meminfo") as f:
            info["mem_total_mb"] = int(f.readline().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/etc/debian_version") as f:
            info["debian"] = f.read().strip()
    except OSError:
        pass
    return info


def tool_versions(bin_dir):
    v = {}
    for name, cmd in (("wsgid", [os.path.join(bin_dir, "wsgid"), "--version"]),("h2load", ["h2load", "--version"]), ("wrk", ["wrk", "-v"]),
                      ("nginx", ["nginx", "-v"]), ("uwsgi", ["uwsgi", "--version"]),
                      ("gunicorn", [PYTHON, "-m", "gunicorn", "--version"]),
                      ("waitress", [PYTHON, "-c",
                                    "import importlib.metadata as m;"
                                    "print('waitress', m.version('waitress'))"]),
                      ("flask", [PYTHON, "-c", "import flask; print('flask', flask.__version__)"
                                 ])):
        exe = cmd[0] if os.path.isabs(cmd[0]) else find_tool(cmd[0])
        if not exe:
            continue
        try:
            r = subprocess.run([exe] + cmd[1:], capture_output=True, text=True, timeout=20)
            text = (r.stdout + r.stderr).strip().splitlines()
            if r.returncode in (0, 1) and text:
                v[name] = text[0].replace("__main__.py", name)
        except (OSError, subprocess.TimeoutExpired):
            pass
    return v


def embedded_pythons(opts):
    """{"wsgid": "Python 3.11.2 (/usr/bin/python3), build/bin", "wsgid-alt": ...}: the
    CPython each wsgid server's worker embeds (`wsgid --version`'s Python line), so the
    results say what the wsgid and wsgid-alt rows compare."""
    found = {}
    for name, bin_dir in (("wsgid", opts.bin_dir), ("wsgid-alt", opts.alt_bin_dir)):
        if not bin_dir or name not in opts.server_names:
            continue
        try:
            out = subprocess.run([os.path.join(bin_dir, "wsgid"), "--version"],
                                 capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        python = [line for line in out.splitlines() if line.startswith("Python")]
        found[name] = "%s, %s" % (python[0] if python else "Python unknown",
                                  os.path.relpath(bin_dir, REPO))
    return found


# ---------------------------------------------------------------------------------------------
# Command line.

def _names(text, known, aliases, what, p):
    names = []
    for n in text.split(","):
        n = n.strip()
        if not n:
            continue
        for m in aliases.get(n, [n]):
            if m not in known:
                p.error("unknown %s %r (known: %s)" % (what, m, ", ".join(known)))
            if m not in names:
                names.append(m)
    if not names:
        p.error("no %s given" % what)
    return names


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--servers", default="all",
                   help="comma-separated subset of %s (gunicorn = both workers; default all)"
                   % ",".join(ALL_SERVERS))
    p.add_argument("--workloads", default="all",
                   help="comma-separated subset of %s (default all)" % ",".join(WORKLOADS))
    p.add_argument("--duration", type=int, default=None,
                   help="seconds of each measured run; default 8 (1 with --quick)")
    p.add_argument("--warmup", type=int, default=None,
                   help="seconds of load before measuring; default 2 (0 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 s measurements, no warm-up load, 200 idle connections, "
                        "4 slow clients, results only where --results-dir says")
    p.add_argument("--idle-connections", type=int, default=None,
                   help="idle keep-alive connections held in the idle workload "
                        "(default 10000; 200 with --quick)")
    p.add_argument("--slow-clients", type=int, default=None,
                   help="clients trickling headers in the slow workload (default 16; 4 with "
                        "--quick)")
    p.add_argument("--slow-interval", type=float, default=None,
                   help="seconds between two bytes of a slow client (default 0.1; 0.01 with "
                        "--quick)")
    p.add_argument("--bin-dir", default=os.path.join(REPO, "build", "bin"),
                   help="where wsgid and wsgid-worker are (default build/bin)")
    p.add_argument("--alt-bin-dir", default=None,
                   help="a second wsgid build, run as server wsgid-alt (e.g. build-py3.12/bin)")
    p.add_argument("--wsgid-flags", default="",
                   help="extra flags for wsgid, one shell-quoted string")
    p.add_argument("--results-dir", default=None,
                   help="where results.md and the PNG charts go (default tests/bench/results; "
                        "none with --quick unless given)")
    p.add_argument("--no-charts", action="store_true", help="write no PNG charts")
    p.add_argument("--json", metavar="PATH", help="write the raw results here")
    p.add_argument("--start-timeout", type=float, default=30,
                   help="seconds a server gets to answer and start its workers")
    p.add_argument("--sample-interval", type=float, default=0.1,
                   help="seconds between /proc samples of the server tree")
    p.add_argument("--render", metavar="JSON",
                   help="run nothing: print the tables and write results.md and the charts "
                        "again from the --json file of an earlier run")
    p.add_argument("--keep-tmp", action="store_true",
                   help="keep the temp dir (configs, data files, server logs)")
    opts = p.parse_args(argv)
    if opts.quick:
        if opts.duration is None:
            opts.duration = 1
        if opts.warmup is None:
            opts.warmup = 0
        if opts.idle_connections is None:
            opts.idle_connections = 200
        if opts.slow_clients is None:
            opts.slow_clients = 4
        if opts.slow_interval is None:
            opts.slow_interval = 0.01
    else:
        if opts.results_dir is None:
            opts.results_dir = RESULTS_DIR
    if opts.duration is None:
        opts.duration = 8
    if opts.warmup is None:
        opts.warmup = 2
    if opts.idle_connections is None:
        opts.idle_connections = 10000
    if opts.slow_clients is None:
        opts.slow_clients = 16
    if opts.slow_interval is None:
        opts.slow_interval = 0.1
    if opts.duration < 1:
        p.error("--duration must be at least 1")
    # Idle keep-alive timeout given to every server: longer than anything one run does.
    opts.keep_alive = 2 * opts.duration + opts.warmup + 90
    opts.bin_dir = os.path.abspath(opts.bin_dir)
    if opts.alt_bin_dir:
        opts.alt_bin_dir = os.path.abspath(opts.alt_bin_dir)
    opts.server_names = _names(opts.servers, list(SERVER_CLASSES), ALIASES, "server", p)
    opts.workload_names = _names(opts.workloads, list(WORKLOADS),
                                 {"all": list(WORKLOADS)}, "workload", p)
    return opts


def write_results(report, opts):
    """Prints the markdown; writes results.md and the charts into --results-dir."""
    import report as rep  # tests/bench/report.py
    text = rep.markdown(report, WORKLOADS, PEERS)
    print()
    print(text)
    if opts.results_dir:
        os.makedirs(opts.results_dir, exist_ok=True)
        charts = []
        if not opts.no_charts:
            try:
                charts = rep.charts(report, WORKLOADS, opts.results_dir)
            except ImportError as e:
                log("no charts: matplotlib missing (apt-get install python3-matplotlib): %s" % e)
        md_path = os.path.join(opts.results_dir, "results.md")
        with open(md_path, "w") as f:
            f.write(rep.results_page(report, text, charts, opts.results_dir))
        log("results written to %s%s" % (md_path, "".join(", " + c for c in charts)))
        report["charts"] = charts
    return rep


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    opts = parse_args(argv)
    if opts.render:
        with open(opts.render) as f:
            write_results(json.load(f), opts)
        return 0
    signal.signal(signal.SIGTERM, raise_interrupt)
    signal.signal(signal.SIGHUP, raise_interrupt)
    nofile = raise_nofile(opts.idle_connections + 1000)
    if "idle" in opts.workload_names and nofile[0] < opts.idle_connections + 200:
        log("open-file limit %d is too low for %d idle connections" % (
            nofile[0], opts.idle_connections))
    tools = {t: find_tool(t) for t in ("h2load", "wrk")}
    for t, path in tools.items():
        if not path:
            log("%s not found: its columns will be n/a (make setup-bench)" % t)
    if not any(tools.values()):
        log("neither h2load nor wrk is installed: nothing to measure (make setup-bench)")
        return 1
    tmpdir = tempfile.mkdtemp(prefix="wsgid-bench-")
    os.chmod(tmpdir, 0o755)  # nginx's workers (user nobody when started as root) read data/
    results = []
    command = " ".join(shlex.quote(a) for a in [PYTHON, os.path.relpath(
        os.path.abspath(__file__), REPO)] + argv)
    report = {"started": datetime.datetime.now().isoformat(timespec="seconds"),
              "command": command, "duration_s": opts.duration, "warmup_s": opts.warmup,
              "clients": CLIENTS, "client_threads": CLIENT_THREADS,
              "server_processes": PROCESSES, "idle_connections": opts.idle_connections,
              "slow_clients": opts.slow_clients, "slow_interval_s": opts.slow_interval,
              "nofile_limit": list(nofile), "machine": machine_info(),
              "loadavg_before": loadavg(), "tools": tools, "results": results,
              "workloads": opts.workload_names, "servers": opts.server_names}
    t_start = time.monotonic()
    try:
        write_data_files(opts, tmpdir)
        report["versions"] = tool_versions(opts.bin_dir)
        report["embedded_python"] = embedded_pythons(opts)
        for wname in opts.workload_names:
            workload = WORKLOADS[wname]
            for name in opts.server_names:
                server = SERVER_CLASSES[name](opts, tmpdir, workload)
                why = server.missing() or server.not_applicable()
                if why:
                    log("%s/%s: skipped: %s" % (wname, name, why))
                    results.append({"name": name, "workload": wname, "label": server.label,
                                    "skipped": why})
                    continue
                log("%s/%s: %s" % (wname, name, server.describe()))
                results.append(bench_one(server, opts, tools))
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
    report["elapsed_s"] = round(time.monotonic() - t_start, 1)
    report["loadavg_after"] = loadavg()

    rep = write_results(report, opts)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(report, f, indent=2, sort_keys=True, default=str)
        log("raw results written to " + opts.json)
    if report.get("interrupted"):
        return 130
    bad = [r for r in results if "skipped" not in r and (
        "error" in r or (r["name"] in ("wsgid", "nginx") and rep.errors(r)))]
    for r in bad:
        log("%s/%s: %s" % (r["workload"], r["name"], r.get("error") or
                           "%d failed requests" % rep.errors(r)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
