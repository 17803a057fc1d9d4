#!/usr/bin/python3
"""Smoke test of the benchmark runner: `run.py --quick` on the servers available here.

Runs tests/bench/run.py --quick --servers wsgid,nginx (1 s of h2load and 1 s of wrk each) and
checks that it printed a markdown table with a nonzero req/s and zero errors for every server
that ran, and that each server stopped cleanly. The load generators and nginx are only
guaranteed after `make setup-bench`: whatever is missing is skipped with a message saying so
(the whole test is skipped when there is no load generator or no server to load).

WSGID_BIN_DIR overrides build/bin, as in tests/integration; WSGID_BENCH_SMOKE_SERVERS overrides
the server list (comma-separated run.py names). Takes about 10 s; bounded at 40 s.

Run: /usr/bin/python3 tests/bench/test_bench_smoke.py   (or python3 -m unittest from here)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
RUNNER = os.path.join(HERE, "run.py")
PYTHON = "/usr/bin/python3"
BIN_DIR = os.environ.get("WSGID_BIN_DIR", os.path.join(REPO, "build", "bin"))
SERVERS = os.environ.get("WSGID_BENCH_SMOKE_SERVERS", "wsgid,nginx").split(",")
TIMEOUT = 40


def which(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")


def why_missing(server):
    """Why a run.py server cannot run on this machine, or None."""
    if server == "wsgid":
        for b in ("wsgid", "wsgid-worker"):
            if not os.access(os.path.join(BIN_DIR, b), os.X_OK):
                return "%s is not built (make build)" % os.path.join(BIN_DIR, b)
    elif server == "nginx":
        if not which("nginx"):
            return "nginx is not installed (make setup-bench)"
    elif server == "uwsgi":
        if not which("uwsgi"):
            return "uwsgi is not installed (make setup-bench)"
    elif server.startswith("gunicorn"):
        r = subprocess.run([PYTHON, "-c", "import gunicorn"], capture_output=True, timeout=30)
        if r.returncode != 0:
            return "gunicorn is not installed (make setup-bench)"
    return None


def parse_table(text):
    """The runner's markdown table as a list of {column: cell} dicts."""
    lines = [l for l in text.splitlines() if l.startswith("|")]
    if len(lines) < 2 or not lines[0].startswith("| server |"):
        return None
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append(dict(zip(head, cells)))
    return rows


def number(cell):
    try:
        return float(cell)
    except (TypeError, ValueError):
        return None


class BenchSmokeTest(unittest.TestCase):

    def test_quick_run(self):
        if not os.access(PYTHON, os.X_OK):
            self.skipTest("%s is missing" % PYTHON)
        tools = [t for t in ("h2load", "wrk") if which(t)]
        for t in ("h2load", "wrk"):
            if t not in tools:
                print("\nbench smoke: %s not installed (make setup-bench): its columns are n/a"
                      % t, file=sys.stderr)
        if not tools:
            self.skipTest("neither h2load nor wrk is installed (make setup-bench)")
        servers = []
        for s in SERVERS:
            why = why_missing(s)
            if why:
                print("\nbench smoke: skipping %s: %s" % (s, why), file=sys.stderr)
            else:
                servers.append(s)
        if not servers:
            self.skipTest("none of %s can run here" % ",".join(SERVERS))

        with tempfile.TemporaryDirectory(prefix="wsgid-bench-smoke-") as tmp:
            json_path = os.path.join(tmp, "bench.json")
            cmd = [PYTHON, RUNNER, "--quick", "--servers", ",".join(servers),
                   "--bin-dir", BIN_DIR, "--json", json_path]
            t0 = time.monotonic()
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
            try:
                out, err = proc.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                # SIGTERM lets the runner stop its servers; then kill whatever is left.
                proc.send_signal(signal.SIGTERM)
                try:
                    out, err = proc.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    out, err = proc.communicate()
                self.fail("run.py took more than %d s:\n%s\n%s"
                          % (TIMEOUT, out.decode(errors="replace"), err.decode(errors="replace")))
            elapsed = time.monotonic() - t0
            out = out.decode("utf-8", "replace")
            err = err.decode("utf-8", "replace")
            detail = "\n--- stdout\n%s\n--- stderr\n%s" % (out, err[-6000:])
            print("\nbench smoke: %s in %.1f s\n%s" % (" ".join(cmd[1:]), elapsed, out),
                  file=sys.stderr)
            self.assertEqual(proc.returncode, 0, "run.py failed" + detail)

            rows = parse_table(out)
            self.assertIsNotNone(rows, "no markdown table in the output" + detail)
            by_name = {r["server"]: r for r in rows}
            with open(json_path) as f:
                report = json.load(f)
            results = {r["name"]: r for r in report["results"]}

            for s in servers:
                res = results.get(s)
                self.assertIsNotNone(res, "%s missing from the JSON" % s + detail)
                if "skipped" in res:  # the runner knows better (e.g. a missing plugin)
                    print("bench smoke: run.py skipped %s: %s" % (s, res["skipped"]),
                          file=sys.stderr)
                    continue
                self.assertNotIn("error", res, detail)
                self.assertTrue(res["stop"]["clean"], "%s stop: %s" % (s, res["stop"]) + detail)
                row = by_name.get(s)
                self.assertIsNotNone(row, "no table row for %s" % s + detail)
                measured = [number(row[c]) for c in ("h2load req/s", "wrk req/s")
                            if number(row[c]) is not None]
                self.assertTrue(measured, "%s has no req/s" % s + detail)
                for v in measured:
                    self.assertGreater(v, 0, "%s: zero req/s" % s + detail)
                self.assertEqual(number(row["errors"]), 0, "%s: errors" % s + detail)
                for tool in ("h2load", "wrk"):
                    if tool in tools and "rps" in res.get(tool, {}):
                        self.assertEqual(res[tool]["errors"], 0, "%s %s errors" % (s, tool))
                        self.assertGreater(res[tool]["requests"], 0)
            ran = [s for s in servers if "skipped" not in results.get(s, {"skipped": 1})]
            if not ran:
                self.skipTest("run.py skipped every server")


if __name__ == "__main__":
    unittest.main(verbosity=2)
