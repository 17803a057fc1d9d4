"""Shared pieces of the benchmark runners (run.py, scenario.py, profile_wsgid.py): process
bookkeeping, /proc sampling of a server's process tree, a server process's life (start,
wait until ready, stop and check what it left), HTTP over TCP and UNIX sockets, the load
generators' output parsers, percentiles, markdown tables and matplotlib for the charts,
and the machine's description.

Everything the runners use has a public name; names with a leading underscore are this
module's own. Standard library only (Debian's /usr/bin/python3); pyplot() imports matplotlib.
"""
import http.client
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

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


def read_pss(pid):
    """Proportional set size of pid in bytes (0 when unknown or gone)."""
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
        self.current_rss = 0
        self.samples = 0

    def sample(self):
        tree = process_tree(self.root)
        pss = None
        if self.samples % self.pss_every == 0:
            pss = sum(read_pss(pid) for pid in tree)
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
            self.current_rss = rss
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


def finish_stop(proc, leftovers, logfile=None):
    """After a server's stop: SIGKILLs the pids it left behind, then its process group, forgets
    it and closes its log."""
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    kill_group(proc)
    if proc in _LIVE:
        _LIVE.remove(proc)
    if logfile:
        logfile.close()


def forget(proc):
    """Drops a process that has exited from the final cleanup's list."""
    if proc in _LIVE:
        _LIVE.remove(proc)


def cleanup_all():
    for proc in _LIVE:
        kill_group(proc)
    _LIVE.clear()


def raise_interrupt(signum, frame):
    """A signal handler (SIGTERM, SIGHUP) that unwinds like Ctrl-C, so cleanups run."""
    raise KeyboardInterrupt("signal %d" % signum)


# ---------------------------------------------------------------------------------------------
# A server process under a benchmark.

class ServerProcess:
    """One server process: started in its own session with its output in a log file,
    polled until ready, stopped with its stop signal, and checked for processes it left
    behind. Subclasses set name and stop_signal and define command() (and env())."""
    name = "?"
    stop_signal = signal.SIGTERM

    def __init__(self, tmpdir, logname="server.log"):
        self.tmpdir = tmpdir
        self.port = free_port()
        self.proc = None
        self.logpath = os.path.join(tmpdir, logname)
        self.logfile = None

    def command(self):
        raise NotImplementedError

    def env(self):
        """The server's environment; None inherits the runner's."""
        return None

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

    def poll_ready(self, probe, timeout, interval):
        """Calls probe() every interval s until it returns None (ready); a string it
        returns says what is still missing. BenchError when the server exits or timeout s
        pass; OSError and HTTPException from probe() count as not ready yet."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("%s exited with status %s while starting:\n%s"
                                 % (self.name, self.proc.returncode, self.log_tail()))
            try:
                last_error = probe()
                if last_error is None:
                    return
            except (OSError, http.client.HTTPException) as e:
                last_error = repr(e)
            time.sleep(interval)
        raise BenchError("%s not ready after %.0f s (%s):\n%s"
                         % (self.name, timeout, last_error, self.log_tail()))

    def stop(self, timeout, tracker=None):
        """Stops with stop_signal; returns {signal, seconds, exit_status, leftover_pids,
        clean} (and timed_out). tracker (a TreeSampler of the server) knows every descendant
        seen; without one, the tree alive at the stop is taken."""
        result = {"signal": signal.Signals(self.stop_signal).name}
        if self.proc is None:
            return result
        tracker = tracker or TreeSampler(self.proc.pid)
        t0 = time.monotonic()
        if self.proc.poll() is None:
            tracker.sample()  # know every descendant alive right now
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
        leftovers = tracker.alive_descendants()
        result["leftover_pids"] = leftovers
        finish_stop(self.proc, leftovers, self.logfile)
        result["clean"] = (not result.get("timed_out") and result["exit_status"] == 0
                           and not leftovers)
        return result


# ---------------------------------------------------------------------------------------------
# HTTP clients for probes and sampling.

class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a UNIX socket (wsgid's control API)."""

    def __init__(self, path, timeout=2):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def http_get(conn, path):
    """GET path on conn, then closes it: (status, body)."""
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


_MODULES = {}


def have_module(module, python="/usr/bin/python3"):
    """Whether python imports module (asked once per run)."""
    if module not in _MODULES:
        try:
            r = subprocess.run([python, "-c", "import " + module], capture_output=True,
                               timeout=20)
            _MODULES[module] = r.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _MODULES[module] = False
    return _MODULES[module]


# ---------------------------------------------------------------------------------------------
# The machine and the tree measured.

def loadavg():
    """The 1, 5 and 15 minute load averages as strings, or None."""
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[:3]
    except OSError:
        return None


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (the architecture when it has none)."""
    model = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return model


def git_commit(repo):
    """The short commit of repo's HEAD, saying so when the tree has uncommitted changes."""
    try:
        r = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return r.stdout.strip() + (" (with uncommitted changes in the tree)" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return "?"


# ---------------------------------------------------------------------------------------------
# Numbers, tables and charts.

def percentile(sorted_values, q):
    """q-th percentile (linear interpolation, as numpy's default) of a sorted list."""
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * q / 100.0
    lo = int(math.floor(k))
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def fmt(v, spec="%.0f"):
    """v formatted with spec; n/a for None."""
    return "n/a" if v is None else spec % v


def markdown_table(head, rows):
    """A markdown table: head (cells) and rows (lists of cells, as strings)."""
    def row(cells):
        return "| " + " | ".join(cells) + " |"
    return "\n".join([row(head), "|" + "|".join("---" for _ in head) + "|"]
                     + [row(r) for r in rows])


def pyplot():
    """matplotlib.pyplot on the Agg backend (files, no display); ImportError without
    matplotlib (Debian: python3-matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt



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
        # Forgotten only once it has exited; on Ctrl-C it stays listed for cleanup_all().
        if proc.poll() is not None:
            forget(proc)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = out.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise BenchError("%s exited with %d:\n%s" % (cmd[0], proc.returncode, text[-2000:]))
    return text, cpu

