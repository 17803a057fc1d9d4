#!/usr/bin/python3
"""Scenario benchmark (issue 5): load that steps low -> high -> low, per configuration.

Three scenarios on examples/bench_scenario.py, each driven through three phases by a
closed-loop client (tests/bench/loadgen/scenario_loadgen.cc, compiled here with g++) whose
concurrency changes per phase and which records every request (start, latency, ok/error):

  io     GET /io: sleeps 50 ms (a slow database)          10 -> 200 -> 10 clients
  cpu    GET /cpu: burns 5 ms of CPU in Python             2 ->  32 ->  2 clients
  mixed  /io and /cpu in turn, request by request          10 -> 100 -> 10 clients

Configurations side by side (--configs):

  gunicorn-sync     Gunicorn's default sync worker, 2 x cores + 1 workers
  gunicorn-gthread  Gunicorn gthread, 5 workers x 4 threads
  wsgid-min         wsgid fixed at the scaler's minimum (--min-workers x --min-threads)
  wsgid-max         wsgid fixed at the scaler's maximum (--max-workers x --max-threads)
  wsgid-auto        wsgid --autoscale between those bounds
  wsgid-auto-preload  the same with --preload (workers forked by a zygote, issue 16);
                    not in the default set: --configs ...,wsgid-auto-preload

Every 0.5 s the runner samples the server: workers and app threads (wsgid: its /metrics on
the ops port, and GET /v1/autoscale on the control socket for the scaler's decisions;
Gunicorn: its worker processes x threads per worker), the accept-queue depth of the
listening socket (/proc/net/tcp, the same for every server), and the total RSS and PSS of the
server's process tree (/proc). It reports per phase requests/s, p50/p99 and errors; for the
whole run worker-seconds, thread-seconds, peak RSS, memory x time, and the time the p99 takes
to settle after the step up; checks the issue's targets (printed, never asserted); and
writes results.md, results.json and one PNG per scenario into --results-dir.

Exit status: 0 when every configuration started, was loaded and stopped; 1 otherwise (a
server that answers with errors is a result, not a failure of the run); 2 usage; 130
interrupted. Loopback only; every process started is killed at the end. Use /usr/bin/python3.
"""
import argparse
import datetime
import http.client
import json
import math
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (BenchError, ServerProcess, UnixHTTPConnection,  # noqa: E402
                      cleanup_all, cpu_model, fmt, forget, free_port, git_commit, have_module,
                      http_get, kill_group, loadavg, log, markdown_table, percentile,
                      process_tree, pyplot, raise_interrupt, read_pss, spawn)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
EXAMPLES = os.path.join(REPO, "examples")
LOADGEN_SRC = os.path.join(HERE, "loadgen", "scenario_loadgen.cc")
RESULTS_DIR = os.path.join(HERE, "results", "scenario")
PYTHON = "/usr/bin/python3"
APP = "bench_scenario:app"
SAMPLE_INTERVAL = 0.5
SETTLE_BAND = 1.25
RESULT_NAMES = {0: "ok", 1: "connect", 2: "closed", 3: "status", 4: "timeout", 5: "malformed"}

SCENARIOS = {
    "io": {"title": "I/O-bound: GET /io sleeps 50 ms", "paths": ["/io"],
           "clients": [10, 200, 10]},
    "cpu": {"title": "CPU-bound: GET /cpu burns 5 ms of CPU", "paths": ["/cpu"],
            "clients": [2, 32, 2]},
    "mixed": {"title": "mixed: /io and /cpu in turn", "paths": ["/io", "/cpu"],
              "clients": [10, 100, 10]},
}
ALL_CONFIGS = ["gunicorn-sync", "gunicorn-gthread", "wsgid-min", "wsgid-max", "wsgid-auto",
               "wsgid-auto-preload"]
DEFAULT_CONFIGS = ALL_CONFIGS[:5]
FIXED = ["gunicorn-sync", "gunicorn-gthread", "wsgid-min", "wsgid-max"]
COLORS = {"gunicorn-sync": "tab:gray", "gunicorn-gthread": "tab:brown",
          "wsgid-min": "tab:blue", "wsgid-max": "tab:orange", "wsgid-auto": "tab:green",
          "wsgid-auto-preload": "tab:olive"}


# ---------------------------------------------------------------------------------------------
# Servers.

class Config(ServerProcess):
    """One server configuration: its command, how to count its workers and threads.
    benchlib.ServerProcess starts, polls and stops it (as run.py's servers)."""

    def __init__(self, name, opts, tmpdir):
        super().__init__(tmpdir, logname="%s.log" % name)
        self.name = name
        self.opts = opts
        self.ops_port = free_port()
        self.ctl_path = os.path.join(tmpdir, "%s.sock" % name)
        self.is_wsgid = name.startswith("wsgid")
        self.workers, self.threads, self.label = self.shape(name, opts)

    @staticmethod
    def shape(name, o):
        """(workers, threads at the start, label) of the configuration `name`."""
        if name == "gunicorn-sync":
            workers = 2 * os.cpu_count() + 1
            return workers, 1, "Gunicorn sync, %d workers (2 x cores + 1)" % workers
        if name == "gunicorn-gthread":
            return 5, 4, "Gunicorn gthread, 5 x 4 threads"
        if name == "wsgid-min":
            return (o.min_workers, o.min_threads,
                    "wsgid fixed %d x %d (the minimum)" % (o.min_workers, o.min_threads))
        if name == "wsgid-max":
            return (o.max_workers, o.max_threads,
                    "wsgid fixed %d x %d (the maximum)" % (o.max_workers, o.max_threads))
        if name in ("wsgid-auto", "wsgid-auto-preload"):
            return (o.min_workers, o.min_threads, "wsgid %s--autoscale %dx%d..%dx%d" % (
                "--preload " if name == "wsgid-auto-preload" else "",
                o.min_workers, o.min_threads, o.max_workers, o.max_threads))
        raise ValueError(name)

    def missing(self):
        if self.is_wsgid:
            for b in ("wsgid", "wsgid-worker"):
                p = os.path.join(self.opts.bin_dir, b)
                if not os.access(p, os.X_OK):
                    return "%s not built (cmake --build, or pass --bin-dir)" % p
            return None
        return None if have_module("gunicorn") else "gunicorn not importable (make setup-bench)"

    def command(self):
        return self.wsgid_command() if self.is_wsgid else self.gunicorn_command()

    def wsgid_command(self):
        o = self.opts
        cmd = [os.path.join(o.bin_dir, "wsgid"), "-b", "127.0.0.1:%d" % self.port,
               "--ops-bind", "127.0.0.1:%d" % self.ops_port,
               "--control-socket", self.ctl_path, "--chdir", EXAMPLES]
        if self.name == "wsgid-auto-preload":
            cmd += ["--preload"]
        if self.name in ("wsgid-auto", "wsgid-auto-preload"):
            cmd += ["--autoscale", "-w", str(o.min_workers), "--threads", str(o.min_threads),
                    "--min-workers", str(o.min_workers), "--min-threads", str(o.min_threads),
                    "--max-workers", str(o.max_workers), "--max-threads", str(o.max_threads),
                    "--scale-down-window", "%g" % o.scale_down_window]
        else:
            cmd += ["-w", str(self.workers), "--threads", str(self.threads),
                    "--max-workers", str(max(self.workers, o.max_workers)),
                    "--max-threads", str(self.threads)]
        return cmd + shlex.split(o.wsgid_flags) + [APP]

    def gunicorn_command(self):
        cmd = [PYTHON, "-m", "gunicorn", "-b", "127.0.0.1:%d" % self.port,
               "-w", str(self.workers)]
        if self.name == "gunicorn-gthread":
            cmd += ["-k", "gthread", "--threads", str(self.threads)]
        if os.path.isdir("/dev/shm"):  # Gunicorn's documented advice for the heartbeat file
            cmd += ["--worker-tmp-dir", "/dev/shm"]
        return cmd + ["--chdir", EXAMPLES, APP]

    def wait_ready(self, paths, timeout=30):
        """Until every path answers 200 and the master and all its workers exist."""
        def probe():
            ok = True
            for p in paths:
                status, _ = http_get(http.client.HTTPConnection("127.0.0.1", self.port,
                                                                timeout=5), p)
                ok = ok and status == 200
            tree = process_tree(self.proc.pid)
            if ok and len(tree) >= 1 + self.workers:
                return None
            return "%d processes" % len(tree)
        self.poll_ready(probe, timeout, 0.1)

    def stop(self, timeout=40):
        return super().stop(timeout)


# ---------------------------------------------------------------------------------------------
# Sampling.

def listen_queue(port):
    """Accept-queue length of the LISTEN socket on 127.0.0.1:port (rx_queue in /proc/net/tcp)."""
    want = ":%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[1].endswith(want) and parts[3] == "0A":
                    return int(parts[4].split(":")[1], 16)
    except (OSError, ValueError, StopIteration):
        pass
    return None


_METRIC = re.compile(r'^(wsgid_[a-z_]+)(?:\{([^}]*)\})? ([0-9.eE+-]+)$')


def wsgid_metrics(ops_port):
    status, body = http_get(http.client.HTTPConnection("127.0.0.1", ops_port, timeout=2),
                            "/metrics")
    if status != 200:
        return None
    m = {"workers": 0, "threads": 0, "busy": 0, "queue": 0, "desired": None}
    for line in body.decode("utf-8", "replace").splitlines():
        r = _METRIC.match(line)
        if not r:
            continue
        name, labels, value = r.group(1), r.group(2) or "", float(r.group(3))
        if name == "wsgid_workers":
            m["workers"] += value
        elif name == "wsgid_worker_threads":
            m["threads"] += value
            if 'state="busy"' in labels:
                m["busy"] += value
        elif name == "wsgid_listen_queue_length":
            m["queue"] += value
        elif name == "wsgid_workers_desired":
            m["desired"] = value
    return m


class Sampler(threading.Thread):
    """Every SAMPLE_INTERVAL: workers, threads, queue, RSS/PSS of the tree (and decisions)."""

    def __init__(self, config):
        super().__init__(daemon=True)
        self.config = config
        self.samples = []
        self.decisions = []
        self.decision_total = 0
        self.stop_event = threading.Event()
        self.failures = 0

    def autoscale_poll(self, t):
        try:
            status, body = http_get(UnixHTTPConnection(self.config.ctl_path), "/v1/autoscale")
        except (OSError, http.client.HTTPException):
            self.failures += 1
            return
        if status != 200:
            return
        doc = json.loads(body)
        total = sum(doc.get("decisions", {}).values())
        new = total - self.decision_total
        if new > 0:
            recent = doc.get("recent", [])
            for text in recent[-new:] if new <= len(recent) else recent:
                self.decisions.append({"t": t, "decision": text})
            self.decision_total = total
        self.autoscale = doc

    def sample(self):
        c = self.config
        t = time.monotonic()
        tree = process_tree(c.proc.pid)
        rss = sum(v[2] for v in tree.values())
        pss = sum(read_pss(p) for p in tree)
        s = {"t": t, "rss": rss, "pss": pss, "procs": len(tree),
             "accept_queue": listen_queue(c.port)}
        if c.is_wsgid:
            try:
                m = wsgid_metrics(c.ops_port)
            except (OSError, http.client.HTTPException):
                m = None
                self.failures += 1
            if m:
                s.update(workers=m["workers"], threads=m["threads"], busy=m["busy"],
                         wsgid_queue=m["queue"])
            if c.name.startswith("wsgid-auto"):
                self.autoscale_poll(t)
        else:
            workers = len(tree) - 1 if c.proc.pid in tree else 0
            s.update(workers=workers, threads=workers * c.threads)
        self.samples.append(s)

    def run(self):
        next_t = time.monotonic()
        while not self.stop_event.is_set():
            try:
                self.sample()
            except Exception as e:  # noqa: BLE001 - a failed sample must not end the run
                self.failures += 1
                log("sample failed: %r" % e)
            next_t += SAMPLE_INTERVAL
            self.stop_event.wait(max(0.0, next_t - time.monotonic()))

    def stop(self):
        self.stop_event.set()
        self.join(10)


# ---------------------------------------------------------------------------------------------
# Analysis.

def load_records(path):
    """The load generator's records: [(start s, latency s, result, path, phase)], by start."""
    with open(path, "rb") as f:
        data = f.read()
    return list(struct.iter_unpack("<dfBBH", data))


def pct_ms(values, q):
    v = percentile(values, q)
    return None if v is None else v * 1e3


def window_p99(rec, t_from, t_to, width=1.0):
    """[(window start rel. t_from, p99 ms, requests)] of ok requests started in each window."""
    n = int(math.floor((t_to - t_from) / width + 1e-9))
    buckets = [[] for _ in range(n)]
    for start, lat, result, _, _ in rec:
        if result == 0 and t_from <= start < t_to:
            k = int((start - t_from) / width)
            if k < n:
                buckets[k].append(lat)
    out = []
    for k, b in enumerate(buckets):
        b.sort()
        out.append((k * width, pct_ms(b, 99), len(b)))
    return out


def settle_time(windows, steady, upper_only=False):
    """Start (s after the step) of the first 1-s window from which every window's p99 is
    within [steady / 1.25, steady x 1.25] (upper_only: at most steady x 1.25); None if the
    last window is not."""
    if steady is None:
        return None
    lo, hi = (0.0 if upper_only else steady / SETTLE_BAND), steady * SETTLE_BAND
    settled = None
    for start, p99, n in windows:
        inside = p99 is not None and lo <= p99 <= hi
        if inside and settled is None:
            settled = start
        elif not inside:
            settled = None
    return settled


def analyse(rec, lg, samples, phases):
    """Per-phase and run-wide numbers of one configuration in one scenario."""
    starts = [0.0]
    for p in phases[:-1]:
        starts.append(starts[-1] + p["seconds"])
    end = starts[-1] + phases[-1]["seconds"]
    t0 = lg["t0_monotonic"]
    out = {"phases": []}
    per_phase = [([], {}) for _ in phases]
    done = [0] * len(phases)  # ok answers completed inside each phase (throughput)
    for start, lat, result, _, phase in rec:
        if result == 0:
            t_done = start + lat
            for i in range(len(phases) - 1, -1, -1):
                if t_done >= starts[i]:
                    if t_done < starts[i] + phases[i]["seconds"]:
                        done[i] += 1
                    break
        if phase >= len(phases):
            continue
        oks, errs = per_phase[phase]
        if result == 0:
            oks.append(lat)
        else:
            kind = RESULT_NAMES.get(result, str(result))
            errs[kind] = errs.get(kind, 0) + 1
    for i, p in enumerate(phases):
        oks, errs = per_phase[i]
        oks.sort()
        out["phases"].append({
            "clients": p["clients"], "seconds": p["seconds"], "ok": len(oks),
            "rps": done[i] / p["seconds"], "p50_ms": pct_ms(oks, 50),
            "p99_ms": pct_ms(oks, 99), "max_ms": pct_ms(oks, 100),
            "errors": sum(errs.values()), "errors_by_kind": errs,
            "retries": lg["phases"][i].get("retries", 0)})
    # Samples within the run, time relative to the load generator's t0.
    run = [dict(s, t=s["t"] - t0) for s in samples if t0 <= s["t"] <= t0 + end]
    dt = SAMPLE_INTERVAL
    out["worker_seconds"] = sum(s.get("workers", 0) for s in run) * dt
    out["thread_seconds"] = sum(s.get("threads", 0) for s in run) * dt
    out["peak_rss_mb"] = max((s["rss"] for s in run), default=0) / 2**20
    out["peak_pss_mb"] = max((s["pss"] for s in run), default=0) / 2**20
    out["rss_mb_s"] = sum(s["rss"] for s in run) * dt / 2**20
    out["pss_mb_s"] = sum(s["pss"] for s in run) * dt / 2**20
    out["max_accept_queue"] = max((s["accept_queue"] or 0 for s in run), default=0)
    out["samples"] = run
    # p99 over time, and the settling after the step up (phase 1).
    out["p99_series"] = window_p99(rec, 0.0, end)
    up = 1 if len(phases) > 1 else 0
    a, b = starts[up], starts[up] + phases[up]["seconds"]
    steady_span = min(5.0, phases[up]["seconds"] / 3.0)
    steady_sel = sorted(lat for st, lat, result, _, _ in rec
                        if result == 0 and b - steady_span <= st < b)
    steady = pct_ms(steady_sel, 99)
    windows = window_p99(rec, a, b)
    out["steady_p99_ms"] = steady
    out["settle_s"] = settle_time(windows, steady)
    out["settle_upper_s"] = settle_time(windows, steady, upper_only=True)
    out["settle_windows"] = windows
    out["phase_starts"] = starts
    out["end"] = end
    out["loadgen_cpu_s"] = lg.get("cpu_seconds")
    return out


# ---------------------------------------------------------------------------------------------
# Running.

def build_loadgen(tmpdir):
    exe = os.path.join(tmpdir, "scenario_loadgen")
    gxx = shutil.which("g++") or shutil.which("c++")
    if not gxx:
        raise BenchError("g++ is needed to build the load generator (apt-get install g++)")
    r = subprocess.run([gxx, "-O2", "-std=c++17", "-pthread", "-o", exe, LOADGEN_SRC],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError("building %s failed:\n%s" % (LOADGEN_SRC, r.stderr[-3000:]))
    return exe


def run_one(opts, scenario, name, loadgen, tmpdir):
    sc = SCENARIOS[scenario]
    d = os.path.join(tmpdir, "%s-%s" % (scenario, name))
    os.makedirs(d, exist_ok=True)
    cfg = Config(name, opts, d)
    why = cfg.missing()
    if why:
        log("skipping %s: %s" % (name, why))
        return {"skipped": why, "label": cfg.label}
    phases = [{"clients": c, "seconds": opts.phase_seconds} for c in sc["clients"]]
    log("%s / %s: %s" % (scenario, name, " ".join(shlex.quote(a) for a in cfg.command())))
    result = {"label": cfg.label, "command": cfg.command()}
    sampler = None
    try:
        cfg.start()
        cfg.wait_ready(sc["paths"])
        time.sleep(opts.settle_before)
        sampler = Sampler(cfg)
        sampler.start()
        time.sleep(SAMPLE_INTERVAL)
        out = os.path.join(d, "records.bin")
        cmd = [loadgen, "--port", str(cfg.port), "--out", out, "--timeout",
               str(opts.request_timeout)]
        for p in sc["paths"]:
            cmd += ["--path", p]
        for p in phases:
            cmd += ["--phase", "%d:%g" % (p["clients"], p["seconds"])]
        total = sum(p["seconds"] for p in phases)
        proc = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     stdin=subprocess.DEVNULL)
        try:
            so, se = proc.communicate(timeout=total + opts.request_timeout + 30)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            raise BenchError("the load generator did not finish")
        forget(proc)
        if proc.returncode != 0:
            raise BenchError("load generator failed (%d): %s" % (proc.returncode, se.decode()))
        time.sleep(SAMPLE_INTERVAL)
        sampler.stop()
        lg = json.loads(so)
        rec = load_records(out)
        result.update(analyse(rec, lg, sampler.samples, phases))
        result["sample_failures"] = sampler.failures
        if name.startswith("wsgid-auto"):
            result["decisions"] = [dict(x, t=round(x["t"] - lg["t0_monotonic"], 2))
                                   for x in sampler.decisions]
            result["autoscale_final"] = getattr(sampler, "autoscale", None)
    except BenchError as e:
        log("%s / %s failed: %s" % (scenario, name, e))
        result["error"] = str(e)
    finally:
        if sampler is not None and sampler.is_alive():
            sampler.stop()
        result["stop"] = cfg.stop()
        result["log_tail"] = cfg.log_tail(15)
    if "phases" in result:
        ph = result["phases"]
        log("  " + "  ".join("%d cl: %.0f req/s p99 %.0f ms err %d" % (
            p["clients"], p["rps"], p["p99_ms"] or -1, p["errors"]) for p in ph)
            + "  settle %s s" % result["settle_s"])
    return result


def uptime():
    """The load averages as one string ("?" when unknown)."""
    return " ".join(loadavg() or ["?"])


# ---------------------------------------------------------------------------------------------
# Report.

def targets(scenario_results):
    """[(scenario, target text, pass?, detail)] for wsgid-auto against the others."""
    rows = []
    for scen, res in scenario_results.items():
        auto = res.get("wsgid-auto")
        if not auto or "phases" not in auto:
            continue
        errs = sum(p["errors"] for p in auto["phases"])
        rows.append((scen, "zero errors", errs == 0, "%d errors" % errs))
        for i, p in enumerate(auto["phases"]):
            best = None
            for n in FIXED:
                r = res.get(n)
                if r and "phases" in r and r["phases"][i]["p99_ms"] is not None:
                    if best is None or r["phases"][i]["p99_ms"] < best[1]:
                        best = (n, r["phases"][i]["p99_ms"])
            if best is None or p["p99_ms"] is None:
                continue
            ratio = p["p99_ms"] / best[1]
            rows.append((scen, "phase %d (%d clients): p99 within 1.25x of the best fixed"
                         % (i + 1, p["clients"]), ratio <= 1.25,
                         "%.1f ms vs %s %.1f ms (%.2fx)" % (p["p99_ms"], best[0], best[1],
                                                           ratio)))
        mx = res.get("wsgid-max")
        if mx and "rss_mb_s" in mx and mx["rss_mb_s"] > 0:
            ratio = auto["rss_mb_s"] / mx["rss_mb_s"]
            rows.append((scen, "memory x time under half of wsgid-max's", ratio < 0.5,
                         "%.0f vs %.0f MB*s RSS (%.2fx)" % (auto["rss_mb_s"], mx["rss_mb_s"],
                                                             ratio)))
        s = auto.get("settle_s")
        rows.append((scen, "p99 settled within 3 s of the step up",
                     s is not None and s <= 3,
                     "settled after %s s (upper bound only: %s s)" % (
                         fmt(s) if s is not None else "never",
                         fmt(upper_settle(auto)) if upper_settle(auto) is not None
                         else "never")))
    return rows


def upper_settle(r):
    if "settle_upper_s" not in r:  # a JSON from before the column existed
        r["settle_upper_s"] = settle_time(r["settle_windows"], r["steady_p99_ms"], True)
    return r["settle_upper_s"]


def render_header(report):
    """The lines above the tables: the run, the options and how each column is measured."""
    opts = report["options"]
    return [
        "# Scenario benchmark: load stepping low -> high -> low\n",
        "Generated by `tests/bench/scenario.py` (see tests/bench/README.md, "
        "\"Scenario benchmark\").\n",
        "- command: `%s`" % report["command"],
        "- date: %s; commit %s; machine: %s, %d cores" % (
            report["date"], report["commit"], report["machine"], report["cores"]),
        "- load average (1/5/15 min) before: %s, after: %s (the machine is shared)"
        % (report["load_before"], report["load_after"]),
        "- phases of %g s; samples every %.1f s; wsgid-auto: `--autoscale "
        "--min-workers %d --min-threads %d --max-workers %d --max-threads %d "
        "--scale-down-window %g` (tick 1 s)" % (
            opts["phase_seconds"], SAMPLE_INTERVAL, opts["min_workers"],
            opts["min_threads"], opts["max_workers"], opts["max_threads"],
            opts["scale_down_window"]),
        "- settle: the first 1-s window (by request start) after the step up from "
        "which every 1-s window's p99 stays within 1.25x (either way) of the phase's "
        "steady p99 (its last %s s); settle (upper): the same with only the "
        "upper bound (p99 <= 1.25x steady: how long the step's extra latency lasts)"
        % "min(5, phase/3)",
        "- req/s: answers completed inside the phase / its length; p50/p99 and err: "
        "the requests started inside the phase (a request waiting across the phase "
        "change counts in the phase it was sent in); worker-s, thread-s, RSS MB*s: "
        "sums of the 0.5-s samples x 0.5 s over the whole run; accept q: the "
        "listening socket's accept queue (/proc/net/tcp)\n",
        "Configurations: " + "; ".join(
            "**%s** = %s" % (n, report["labels"][n]) for n in report["configs"]) + ".\n"]


def settle_text(seconds):
    return fmt(seconds) if seconds is not None else "never"


def config_row(name, r):
    """One configuration's cells in a scenario's table."""
    if "phases" not in r:
        return [name, (r.get("skipped") or r.get("error", "?")[:200]).replace("\n", " ")]
    row = [name]
    for p in r["phases"]:
        row += [fmt(p["rps"]), fmt(p["p50_ms"], "%.1f"), fmt(p["p99_ms"], "%.1f"),
                str(p["errors"]) + ("" if not p["retries"] else
                                    " (%d retried)" % p["retries"])]
    return row + [fmt(r["worker_seconds"]), fmt(r["thread_seconds"]),
                  fmt(r["peak_rss_mb"], "%.1f"), fmt(r["rss_mb_s"]), fmt(r["pss_mb_s"]),
                  str(r["max_accept_queue"]), fmt(r["steady_p99_ms"], "%.1f"),
                  settle_text(r["settle_s"]), settle_text(upper_settle(r))]


def scenario_section(report, scen, charts):
    """A scenario's heading, its table, errors by kind, chart and wsgid-auto's decisions."""
    res = report["results"][scen]
    sc = SCENARIOS[scen]
    lines = ["## %s (%s clients)\n" % (sc["title"], " -> ".join(map(str, sc["clients"])))]
    head = ["config"]
    for c in sc["clients"]:
        head += ["%d cl req/s" % c, "p50 ms", "p99 ms", "err"]
    head += ["worker-s", "thread-s", "peak RSS MB", "RSS MB*s", "PSS MB*s",
             "max accept q", "steady p99 ms", "settle s", "settle (upper) s"]
    lines.append(markdown_table(head, [config_row(n, res.get(n, {}))
                                       for n in report["configs"]]))
    lines.append("")
    errs = [(n, i + 1, p["errors_by_kind"]) for n in report["configs"]
            for i, p in enumerate(res.get(n, {}).get("phases", [])) if p["errors"]]
    if errs:
        lines.append("Errors by kind: " + "; ".join("%s phase %d: %s" % e for e in errs)
                     + "\n")
    if charts:
        lines.append("![%s](scenario_%s.png)\n" % (scen, scen))
    auto = res.get("wsgid-auto", {})
    if auto.get("decisions"):
        lines.append("wsgid-auto's scaler decisions (s after the load started; phases "
                     "change at %s s):\n" % ", ".join(fmt(s) for s in auto["phase_starts"][1:]))
        lines.append("```")
        for dcs in auto["decisions"]:
            lines.append("%6.1f  %s" % (dcs["t"], dcs["decision"]))
        lines.append("```\n")
    return lines


def render(report, results_dir, charts=True):
    """results.md in results_dir; returns its text."""
    lines = render_header(report)
    for scen in report["scenarios"]:
        lines += scenario_section(report, scen, charts)
    lines.append("## Targets (wsgid-auto; printed, not asserted)\n")
    lines.append(markdown_table(["scenario", "target", "result", "detail"], [
        [scen, what, "PASS" if ok else "FAIL", detail]
        for scen, what, ok, detail in report["targets"]]))
    lines.append("")
    text = "\n".join(lines)
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, "results.md"), "w") as f:
        f.write(text + "\n")
    return text


def charts(report, results_dir):
    try:
        plt = pyplot()
    except ImportError:
        log("matplotlib missing: no charts (apt-get install python3-matplotlib)")
        return []
    os.makedirs(results_dir, exist_ok=True)  # --render may name a new directory
    written = []
    for scen in report["scenarios"]:
        fig, axes = plt.subplots(5, 1, figsize=(11, 13), sharex=True)
        plot_scenario(report, scen, axes)
        fig.suptitle("%s, phases of %g s" % (SCENARIOS[scen]["title"],
                                             report["options"]["phase_seconds"]))
        fig.tight_layout()
        path = os.path.join(results_dir, "scenario_%s.png" % scen)
        fig.savefig(path, dpi=80)
        plt.close(fig)
        written.append(path)
    return written


def plot_scenario(report, scen, axes):
    """The five panels of a scenario's chart: workers, threads, accept queue, p99, RSS."""
    res = report["results"][scen]
    ax_w, ax_t, ax_q, ax_p, ax_m = axes
    for n in report["configs"]:
        r = res.get(n, {})
        if "samples" not in r:
            continue
        ts = [s["t"] for s in r["samples"]]
        kw = {"label": n, "color": COLORS.get(n), "lw": 2 if n == "wsgid-auto" else 1.2}
        ax_w.step(ts, [s.get("workers", 0) for s in r["samples"]], where="post", **kw)
        ax_t.step(ts, [s.get("threads", 0) for s in r["samples"]], where="post", **kw)
        ax_q.plot(ts, [s["accept_queue"] or 0 for s in r["samples"]], **kw)
        ps = [(w[0] + 0.5, w[1]) for w in r["p99_series"] if w[1] is not None]
        ax_p.plot([x for x, _ in ps], [y for _, y in ps], marker=".", **kw)
        ax_m.plot(ts, [s["rss"] / 2**20 for s in r["samples"]], **kw)
        for b in r["phase_starts"][1:]:
            for ax in axes:
                ax.axvline(b, color="k", ls=":", lw=0.8)
    ax_w.set_ylabel("workers")
    ax_t.set_ylabel("app threads (total)")
    ax_t.set_yscale("log")
    ax_q.set_ylabel("accept queue")
    ax_p.set_ylabel("p99 ms (1-s windows)")
    ax_p.set_yscale("log")
    ax_m.set_ylabel("total RSS MB")
    ax_m.set_xlabel("seconds since the load started (phases: %s clients)"
                    % " -> ".join(map(str, SCENARIOS[scen]["clients"])))
    ax_w.legend(loc="upper left", fontsize=8, ncol=5)
    for ax in axes:
        ax.grid(True, alpha=0.3)


def parse_args():
    """(options, scenario names, configuration names); exits 2 on a usage error."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default="io,cpu,mixed")
    ap.add_argument("--configs", default=",".join(DEFAULT_CONFIGS))
    ap.add_argument("--phase-seconds", type=float, default=25.0)
    ap.add_argument("--min-workers", type=int, default=1)
    ap.add_argument("--min-threads", type=int, default=1)
    ap.add_argument("--max-workers", type=int, default=4)
    ap.add_argument("--max-threads", type=int, default=128)
    ap.add_argument("--scale-down-window", type=float, default=10.0)
    ap.add_argument("--request-timeout", type=float, default=30.0)
    ap.add_argument("--settle-before", type=float, default=1.0,
                    help="seconds between the server answering and the load starting")
    ap.add_argument("--bin-dir", default=os.path.join(REPO, "build", "bin"))
    ap.add_argument("--wsgid-flags", default="")
    ap.add_argument("--results-dir", default=None)
    ap.add_argument("--json", default=None, help="also write the raw report here")
    ap.add_argument("--no-charts", action="store_true")
    ap.add_argument("--keep-tmp", action="store_true")
    ap.add_argument("--render", metavar="JSON", help="only render results.md and the charts "
                    "from an earlier results.json")
    opts = ap.parse_args()
    scenarios = [s for s in opts.scenarios.split(",") if s]
    configs = [c for c in opts.configs.split(",") if c]
    for s in scenarios:
        if s not in SCENARIOS:
            ap.error("unknown scenario %r (have %s)" % (s, ",".join(SCENARIOS)))
    for c in configs:
        if c not in ALL_CONFIGS:
            ap.error("unknown config %r (have %s)" % (c, ",".join(ALL_CONFIGS)))
    opts.bin_dir = os.path.abspath(opts.bin_dir)
    return opts, scenarios, configs


def run_all(opts, report, tmpdir):
    """Every configuration in every scenario, into report["results"]; True when one of them
    failed to start, be loaded or stop cleanly (a skipped one is not a failure)."""
    failed = False
    loadgen = build_loadgen(tmpdir)
    for scen in report["scenarios"]:
        report["results"][scen] = {}
        for name in report["configs"]:
            r = run_one(opts, scen, name, loadgen, tmpdir)
            report["results"][scen][name] = r
            report["labels"][name] = r["label"]
            if "error" in r or ("stop" in r and r["stop"] and not r["stop"].get("clean")):
                failed = failed or "skipped" not in r
    return failed


def write_outputs(report, opts, results_dir):
    """The charts, results.md, results.json (and --json); returns the markdown."""
    report["targets"] = targets(report["results"])
    os.makedirs(results_dir, exist_ok=True)
    if not opts.no_charts:
        charts(report, results_dir)
    text = render(report, results_dir, charts=not opts.no_charts)
    slim = json.loads(json.dumps(report))
    for path in [os.path.join(results_dir, "results.json")] + ([opts.json] if opts.json
                                                                 else []):
        with open(path, "w") as f:
            json.dump(slim, f, separators=(",", ":"))
    return text


def main():
    opts, scenarios, configs = parse_args()
    results_dir = opts.results_dir or RESULTS_DIR
    if opts.render:
        with open(opts.render) as f:
            report = json.load(f)
        report["targets"] = targets(report["results"])
        if not opts.no_charts:
            charts(report, results_dir)
        print(render(report, results_dir, charts=not opts.no_charts))
        return 0

    signal.signal(signal.SIGTERM, raise_interrupt)
    tmpdir = tempfile.mkdtemp(prefix="wsgid-scenario-")
    report = {"command": " ".join(shlex.quote(a) for a in sys.argv),
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "commit": git_commit(REPO), "machine": cpu_model(), "cores": os.cpu_count(),
              "load_before": uptime(), "options": vars(opts), "scenarios": scenarios,
              "configs": configs, "results": {}, "labels": {}}
    try:
        failed = run_all(opts, report, tmpdir)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except BenchError as e:
        log(str(e))
        return 1
    finally:
        cleanup_all()
        if not opts.keep_tmp:
            shutil.rmtree(tmpdir, ignore_errors=True)
        else:
            log("kept " + tmpdir)
    report["load_after"] = uptime()
    print(write_outputs(report, opts, results_dir))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
