#!/usr/bin/python3
"""The preload benchmark (issue 16): memory and scale-up time, side by side in one run.

For each app (the example Django site; tests/bench/apps/heavy_app.py, Django with the admin
plus numpy, pandas and SQLAlchemy, over 100 MB a worker) and each server (wsgid, wsgid
--preload, wsgid --preload --no-gc-freeze, Gunicorn, Gunicorn --preload): start with one
worker, scale to 8 (wsgid: `wsgictl scale 8`; Gunicorn: 7 TTIN signals, each sent once the worker
the previous one asked for has been forked, as signals sent together coalesce) and time until all 8
are ready (wsgid: /v1/status says 8 ready; Gunicorn: 8 live workers have run their
post_worker_init hook, which runs after the app is loaded in the worker), then 400 requests
from 16 clients (a Django page, each on a new connection: what the first requests load
lazily, URLconf and templates, is loaded in the workers as in real use) and, a second
later, the total PSS of the whole process tree (master, zygote, workers).

  /usr/bin/python3 tests/bench/preload.py --bin-dir build/bin [--apps site,heavy] [--runs 1]

Prints a markdown table (and the ratios to wsgid without preload) on stdout.
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import log  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON = "/usr/bin/python3"
APPS = {  # chdir, app, environment, the page the warm-up asks for
    "site": (os.path.join(REPO, "examples", "django_site"), "examplesite.wsgi:application",
             {"DJANGO_SETTINGS_MODULE": "examplesite.settings"}, "/"),
    # pandas imports numexpr, whose thread pool starts at import: wsgid --preload would
    # (rightly) refuse to fork over it and spawn without preload. One thread, for every
    # server alike.
    "heavy": (os.path.join(REPO, "tests", "bench", "apps"), "heavy_app:application",
              {"NUMEXPR_NUM_THREADS": "1"}, "/admin/login/"),
}
WARM_CLIENTS, WARM_REQUESTS = 16, 25  # per client, each on a new connection
SERVERS = ["wsgid", "wsgid --preload", "wsgid --preload --no-gc-freeze", "gunicorn",
           "gunicorn --preload"]
TARGET = 8
GUNICORN_CONF = """
import os
def post_worker_init(worker):
    open(os.path.join(%r, str(os.getpid())), "w").close()
"""


def tree_pss(root):
    return sum(benchlib.read_pss(pid) for pid in benchlib.process_tree(root))


def wait(predicate, timeout, what, proc):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise benchlib.BenchError("%s: the server exited" % what)
        if predicate():
            return time.monotonic()
        time.sleep(0.005)
    raise benchlib.BenchError("%s: not reached in %.0f s" % (what, timeout))


class Run:
    def __init__(self, server, app, bin_dir, tmp):
        self.server, self.app, self.bin_dir, self.tmp = server, app, bin_dir, tmp
        self.port = benchlib.free_port()
        self.sock = os.path.join(tmp, "ctl.sock")
        self.ready_dir = os.path.join(tmp, "ready")
        os.makedirs(self.ready_dir, exist_ok=True)
        chdir, module, env, self.page = APPS[app]
        self.env = dict(os.environ, **env)
        flags = server.split()[1:]
        if server.startswith("wsgid"):
            self.cmd = [os.path.join(bin_dir, "wsgid"), "-b", "127.0.0.1:%d" % self.port,
                        "-w", "1", "--chdir", chdir, "--control-socket", self.sock,
                        "--ops-bind", "off", "--max-workers", "16"] + flags + [module]
        else:
            conf = os.path.join(tmp, "gunicorn.conf.py")
            with open(conf, "w") as f:
                f.write(GUNICORN_CONF % self.ready_dir)
            self.cmd = [PYTHON, "-m", "gunicorn", "-b", "127.0.0.1:%d" % self.port, "-w", "1",
                        "-c", conf, "--chdir", chdir] + flags + [module]

    def ready_workers(self):
        if self.server.startswith("wsgid"):
            out = subprocess.run([os.path.join(self.bin_dir, "wsgictl"), "--socket", self.sock,
                                  "-o", "json", "status"], capture_output=True, text=True)
            if out.returncode != 0:
                return 0
            return json.loads(out.stdout)["pool"]["ready"]
        live = set(benchlib.process_tree(self.proc.pid)) - {self.proc.pid}
        return len(live & {int(p) for p in os.listdir(self.ready_dir)})

    def scale(self):
        if self.server.startswith("wsgid"):
            subprocess.run([os.path.join(self.bin_dir, "wsgictl"), "--socket", self.sock,
                            "scale", str(TARGET)], check=True, capture_output=True)
            return
        # Signals of one kind sent together coalesce: the next TTIN goes once the worker
        # the previous one asked for exists (forked; its app may still be loading).
        for n in range(2, TARGET + 1):
            os.kill(self.proc.pid, signal.SIGTTIN)
            wait(lambda: len(benchlib.process_tree(self.proc.pid)) > n, 30,
                 "worker %d forked" % n, self.proc)

    def median_worker_start_ms(self):
        """wsgid: the median of the 7 scaled-up workers' start times, from the master's
        "ready in N ms" lines: with --preload, each worker's own fork to its own ready line
        (the zygote's CLOCK_MONOTONIC reading just before it forks that worker, which it
        sends with the pid, to the worker's reading as it writes its ready line), so the
        forks before it in the batch are not counted; without, the supervisor turn that
        spawned it to its ready line (the import). None for Gunicorn."""
        if not self.server.startswith("wsgid"):
            return None
        with open(os.path.join(self.tmp, "server.log"), errors="replace") as f:
            times = [int(t) for t in re.findall(r"\) ready in (\d+) ms", f.read())]
        return statistics.median(times[-(TARGET - 1):]) if times else None

    def warm_up(self):
        def client():
            for _ in range(WARM_REQUESTS):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                try:
                    conn.request("GET", self.page)
                    conn.getresponse().read()
                finally:
                    conn.close()
        threads = [threading.Thread(target=client) for _ in range(WARM_CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def measure(self):
        with open(os.path.join(self.tmp, "server.log"), "wb") as logf:
            self.proc = benchlib.spawn(self.cmd, stdout=logf, stderr=subprocess.STDOUT,
                                       env=self.env, cwd=self.tmp)
            try:
                wait(lambda: self.ready_workers() >= 1, 120, "first worker", self.proc)
                time.sleep(1)
                t0 = time.monotonic()
                self.scale()
                t1 = wait(lambda: self.ready_workers() >= TARGET, 180, "8 workers", self.proc)
                self.warm_up()  # what the first requests load (URLconf, templates)
                time.sleep(1)
                pss = tree_pss(self.proc.pid)
                return {"scale_seconds": t1 - t0, "pss_bytes": pss,
                        "start_ms": self.median_worker_start_ms()}
            finally:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(30)
                except subprocess.TimeoutExpired:
                    pass
                benchlib.kill_group(self.proc)
                benchlib.forget(self.proc)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", default=os.path.join(REPO, "build", "bin"))
    parser.add_argument("--apps", default="site,heavy")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    args.bin_dir = os.path.abspath(args.bin_dir)
    signal.signal(signal.SIGTERM, benchlib.raise_interrupt)
    results = {}
    try:
        for app in args.apps.split(","):
            for server in args.servers.split(","):
                samples = []
                for _ in range(args.runs):
                    with tempfile.TemporaryDirectory(prefix="wsgid-preload-bench-") as tmp:
                        log("%s on %s" % (server, app))
                        samples.append(Run(server, app, args.bin_dir, tmp).measure())
                results[(app, server)] = {
                    k: (statistics.median(s[k] for s in samples)
                        if samples[0][k] is not None else None) for k in samples[0]}
                log("  %s" % results[(app, server)])
    finally:
        benchlib.cleanup_all()
    print("load average at the end: %s" % (benchlib.loadavg(),))
    rows = []
    for (app, server), r in results.items():
        base = results.get((app, "wsgid"))
        rows.append([app, server, "%.0f" % (r["pss_bytes"] / 2**20),
                     "%.2f" % (r["pss_bytes"] / base["pss_bytes"]) if base else "",
                     "%.2f" % r["scale_seconds"],
                     "%.2f" % (r["scale_seconds"] / base["scale_seconds"]) if base else "",
                     "%.0f" % r["start_ms"] if r["start_ms"] is not None else "n/a"])
    print(benchlib.markdown_table(
        ["app", "server", "total PSS, 8 workers (MB)", "x wsgid", "scale 1 -> 8 (s)",
         "x wsgid", "median worker start (ms)"], rows))


if __name__ == "__main__":
    main()
