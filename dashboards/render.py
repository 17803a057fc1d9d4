#!/usr/bin/python3
"""Renders every panel of dashboards/wsgid.json from real data into a PNG.

    /usr/bin/python3 dashboards/render.py [--out dashboards/wsgid.png] [--seconds 90]

Starts wsgid (build/bin, 2 workers x 2 threads, --timeout 5) and Debian's Prometheus
scraping its ops port every second, drives a scripted load through it, then queries every
panel's expressions over the run with /api/v1/query_range ($job/$instance set to the live
target, $__rate_interval = 10s, as Grafana would at a 1 s scrape interval) and draws them
with matplotlib in the dashboard's own grid. The script:

  load ramps up (1, 2, 4 clients; some slow, 404 and failing requests),
  SIGTTIN adds a worker,  SIGHUP reloads (a new generation),
  one worker is SIGSTOPped: its heartbeat goes stale, wsgid kills it (heartbeat_timeout,
  the red bar in "Worker exits by reason") and starts a replacement.

Loopback only; everything it starts is stopped at the end.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness  # noqa: E402

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

APP = '''
import time

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("rendering: an app failure")
    if path == "/slow":
        time.sleep(0.2)
    status = "404 Not Found" if path == "/missing" else "200 OK"
    body = b"ok\\n" * 64
    start_response(status, [("Content-Type", "text/plain"),
                            ("Content-Length", str(len(body)))])
    return [body]
'''
PATHS = ["/"] * 12 + ["/slow", "/missing", "/slow", "/boom"]


def fmt(unit):
    def f(v, _pos=None):
        if unit in ("bytes", "Bps"):
            suffix = "/s" if unit == "Bps" else ""
            for u in ("B", "KiB", "MiB", "GiB"):
                if abs(v) < 1024:
                    return "%.0f %s%s" % (v, u, suffix)
                v /= 1024
            return "%.0f TiB%s" % (v, suffix)
        if unit == "s":
            return "%.0f ms" % (v * 1e3) if v < 1 else "%.1f s" % v
        if unit == "percentunit":
            return "%.1f%%" % (v * 100)
        if unit in ("reqps", "cps"):
            return "%g/s" % float("%.3g" % v)
        return "%g" % float("%.3g" % v)
    return FuncFormatter(f)


class Run:
    def __init__(self, seconds):
        self.seconds = seconds
        self.tmp = tempfile.mkdtemp(prefix="wsgid-render-")
        self.stop = threading.Event()
        self.clients = []
        self.server = self.prom = None
        self.events = []

    def start(self):
        app_dir = os.path.join(self.tmp, "app")
        os.makedirs(app_dir)
        with open(os.path.join(app_dir, "render_app.py"), "w") as f:
            f.write(APP)
        self.ops = harness.free_port()
        self.server = harness.Server("render_app:app", "--ops-bind", "127.0.0.1:%d" % self.ops,
                                     "--control-socket", "off", "--timeout", "5",
                                     workers=2, threads=2, chdir=app_dir)
        self.server.start()
        self.target = "127.0.0.1:%d" % self.ops
        config = os.path.join(self.tmp, "prometheus.yml")
        with open(config, "w") as f:
            json.dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                       "scrape_configs": [{"job_name": "wsgid", "static_configs": [
                           {"targets": [self.target]}]}]}, f)
        self.prom_port = harness.free_port()
        self.prom = subprocess.Popen(
            ["/usr/bin/prometheus", "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(self.tmp, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.prom_port, "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.prom_port, timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("prometheus did not start")

    def client(self, i):
        conn, n = None, i
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
                conn.request("GET", PATHS[n % len(PATHS)])
                conn.getresponse().read()
                n += 1
                time.sleep(0.002)
            except (OSError, http.client.HTTPException):
                conn = None
                time.sleep(0.05)

    def add_clients(self, n):
        for _ in range(n):
            t = threading.Thread(target=self.client, args=(len(self.clients),), daemon=True)
            t.start()
            self.clients.append(t)

    def workers(self):
        pid = self.server.proc.pid
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]

    def script(self):
        t0 = time.time()
        self.t0 = t0
        s = self.seconds
        plan = [(0.05, lambda: self.add_clients(1), "1 client"),
                (0.2, lambda: self.add_clients(1), "2 clients"),
                (0.35, lambda: self.server.proc.send_signal(signal.SIGTTIN), "TTIN"),
                (0.45, lambda: self.add_clients(2), "4 clients"),
                (0.55, lambda: self.server.proc.send_signal(signal.SIGHUP), "HUP"),
                (0.7, lambda: os.kill(self.workers()[0], signal.SIGSTOP), "SIGSTOP a worker")]
        for frac, action, label in plan:
            while time.time() < t0 + frac * s:
                time.sleep(0.1)
            action()
            self.events.append((time.time(), label))
            print("%5.1f s  %s" % (time.time() - t0, label), flush=True)
        while time.time() < t0 + s:
            time.sleep(0.2)
        self.t1 = time.time()

    def query_range(self, expr, step=2):
        params = {"query": expr, "start": self.t0, "end": self.t1, "step": step}
        url = "http://127.0.0.1:%d/api/v1/query_range?%s" % (self.prom_port,
                                                             urllib.parse.urlencode(params))
        with urllib.request.urlopen(url, timeout=30) as r:
            reply = json.load(r)
        if reply["status"] != "success":
            raise RuntimeError("%s: %s" % (expr, reply))
        return reply["data"]["result"]

    def close(self):
        self.stop.set()
        for t in self.clients:
            t.join(5)
        if self.prom is not None and self.prom.poll() is None:
            self.prom.terminate()
            self.prom.wait(15)
        if self.server is not None:
            self.server.__exit__(None, None, None)
        shutil.rmtree(self.tmp, ignore_errors=True)


def legend(fmt_text, metric):
    out = fmt_text
    for k, v in metric.items():
        out = out.replace("{{%s}}" % k, v)
    return out


def render(run, dash, out):
    panels = dash["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    fig = plt.figure(figsize=(18, rows * 0.36))
    events = ", ".join("%s at %.0f s" % (label, when - run.t0) for when, label in run.events)
    fig.suptitle("dashboards/wsgid.json, every panel from a live wsgid scraped every 1 s "
                 "by Prometheus (%d s run)\nevents (dotted lines): %s; series at zero "
                 "throughout are left out" % (run.t1 - run.t0, events), fontsize=11, y=0.995)
    grid = fig.add_gridspec(rows, 24, hspace=0.0, wspace=1.5, top=0.95, bottom=0.02,
                            left=0.04, right=0.96)
    for p in panels:
        g = p["gridPos"]
        ax = fig.add_subplot(grid[g["y"] + 1:g["y"] + g["h"] - 1, g["x"]:g["x"] + g["w"]])
        if p["type"] == "stat":
            draw_stat(ax, p, panel_series(run, p))
        else:
            draw_timeseries(ax, p, panel_series(run, p), run)
    fig.savefig(out, dpi=72)
    print("wrote", out)


def panel_series(run, p):
    """[(legend name, xs, ys)] of every target of panel p over the run."""
    series_list = []
    for t in p["targets"]:
        expr = (t["expr"].replace("$__rate_interval", "10s").replace("$job", "wsgid")
                .replace("$instance", run.target))
        for series in run.query_range(expr):
            name = legend(t["legendFormat"], series["metric"])
            if name.startswith(run.target + " "):
                name = name[len(run.target) + 1:]
            xs = [float(v[0]) - run.t0 for v in series["values"]]
            ys = [float(v[1]) for v in series["values"]]
            series_list.append((name, xs, ys))
    return series_list


def threshold_color(defaults, value):
    color = "green"
    for step in defaults.get("thresholds", {}).get("steps", []):
        if step["value"] is None or value >= step["value"]:
            color = step["color"]
    return color


def draw_stat(ax, p, series_list):
    """A stat panel as Grafana shows it: the last value (or the series name, for
    textMode "name"), coloured by the thresholds, over a sparkline."""
    defaults = p["fieldConfig"]["defaults"]
    options = p.get("options", {})
    ax.set_axis_off()
    ax.set_title(p["title"], fontsize=10, loc="left")
    if not series_list:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center",
                fontsize=9, color="grey")
        return
    name, xs, ys = series_list[-1]
    value = ys[-1] if ys else 0.0
    color = threshold_color(defaults, value)
    text = name if options.get("textMode") == "name" else fmt(defaults["unit"])(value)
    if options.get("graphMode") == "area" and xs:
        ax.fill_between(xs, ys, alpha=0.25, color=color)
        ax.set_ylim(bottom=0)
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            fontsize=20, color=color, fontweight="bold")


def draw_timeseries(ax, p, series_list, run):
    defaults = p["fieldConfig"]["defaults"]
    unit = defaults["unit"]
    bars = defaults["custom"].get("drawStyle") == "bars"
    right = {}  # series name -> unit, for overrides that move a series to a right axis
    for o in p["fieldConfig"].get("overrides", []):
        props = {q["id"]: q["value"] for q in o["properties"]}
        if props.get("custom.axisPlacement") == "right":
            right[o["matcher"]["options"]] = props.get("unit", unit)
    shown = [s for s in series_list if any(y != 0 for y in s[2])]
    axr = ax.twinx() if any(name in right for name, _, _ in shown) else None
    for name, xs, ys in shown:
        target_ax = axr if name in right else ax
        style = {}
        if "timeout" in name:
            style = {"color": "red", "linewidth": 3}
        elif name in ("crash", "boot_failure", "failed"):
            style = {"color": "orange", "linewidth": 2}
        elif name == "desired":
            style = {"color": "black", "linestyle": "--"}
        if bars:
            target_ax.bar(xs, ys, width=1.6, label=name, alpha=0.75,
                          color=style.get("color"))
        else:
            color = style.get("color") or ("tab:orange" if name in right else None)
            target_ax.plot(xs, ys, label=name + (" (right)" if name in right else ""),
                           linewidth=style.get("linewidth", 1.2), color=color,
                           linestyle=style.get("linestyle", "-"))
    for when, _ in run.events:
        ax.axvline(when - run.t0, color="grey", linewidth=0.7, linestyle=":")
    ax.set_title(p["title"], fontsize=10, loc="left")
    ax.yaxis.set_major_formatter(fmt(unit))
    ax.tick_params(labelsize=7)
    ax.set_xlim(0, run.t1 - run.t0)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if axr is not None:
        axr.yaxis.set_major_formatter(fmt(next(iter(right.values()))))
        axr.tick_params(labelsize=7)
        axr.set_ylim(bottom=0)
    handles, labels = ax.get_legend_handles_labels()
    if axr is not None:
        h2, l2 = axr.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if handles:
        ax.legend(handles, labels, fontsize=7, loc="upper left", ncol=4, framealpha=0.7)
    else:
        ax.text(0.5, 0.5, "nothing but zeros in this run", transform=ax.transAxes,
                ha="center", va="center", fontsize=8, color="grey")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(HERE, "wsgid.png"))
    parser.add_argument("--seconds", type=int, default=90)
    args = parser.parse_args()
    with open(os.path.join(HERE, "wsgid.json")) as f:
        dash = json.load(f)
    run = Run(args.seconds)
    try:
        run.start()
        run.script()
        render(run, dash, args.out)
    finally:
        run.close()


if __name__ == "__main__":
    main()
