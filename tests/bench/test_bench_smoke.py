#!/usr/bin/python3
"""Smoke test of the benchmark runner: `run.py --quick` on the servers available here.

Runs tests/bench/run.py --quick --servers wsgid,nginx --workloads hello,post64k,idle,slow
(1 s per measured run, 200 idle connections, 4 slow clients; results.md and the charts go to a
temp dir) and checks, from its JSON, that every server that ran answered, served every request
of every phase without an error, held every idle connection, answered the slow clients, and
stopped cleanly; and that the markdown tables, results.md and (with matplotlib) the two PNG
charts were written. Nothing is timed. The load generators and nginx are only guaranteed after
`make setup-bench`: whatever is missing is skipped with a message saying so (the whole test is
skipped when there is no load generator or no server to load).

WSGID_BIN_DIR overrides build/bin, as in tests/integration; WSGID_BENCH_SMOKE_SERVERS and
WSGID_BENCH_SMOKE_WORKLOADS override the lists (comma-separated run.py names). Takes about
20 s; bounded at 60 s.

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
WORKLOADS = os.environ.get("WSGID_BENCH_SMOKE_WORKLOADS", "hello,post64k,idle,slow").split(",")
TIMEOUT = 60


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
    elif server.startswith("gunicorn") or server == "waitress":
        module = "waitress" if server == "waitress" else "gunicorn"
        r = subprocess.run([PYTHON, "-c", "import " + module], capture_output=True, timeout=30)
        if r.returncode != 0:
            return "%s is not installed (make setup-bench)" % module
    return None


def have_matplotlib():
    r = subprocess.run([PYTHON, "-c", "import matplotlib"], capture_output=True, timeout=30)
    return r.returncode == 0


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
        workloads = WORKLOADS
        if "wrk" not in tools:  # idle and slow are measured with wrk only
            workloads = [w for w in workloads if w not in ("idle", "slow")]
        servers = []
        for s in SERVERS:
            why = why_missing(s)
            if why:
                print("\nbench smoke: skipping %s: %s" % (s, why), file=sys.stderr)
            else:
                servers.append(s)
        if not servers or not workloads:
            self.skipTest("none of %s can run here" % ",".join(SERVERS))

        with tempfile.TemporaryDirectory(prefix="wsgid-bench-smoke-") as tmp:
            json_path = os.path.join(tmp, "bench.json")
            results_dir = os.path.join(tmp, "results")
            cmd = [PYTHON, RUNNER, "--quick", "--servers", ",".join(servers),
                   "--workloads", ",".join(workloads), "--bin-dir", BIN_DIR,
                   "--json", json_path, "--results-dir", results_dir]
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
            self.assertIn("| server |", out, "no markdown table in the output" + detail)
            with open(json_path) as f:
                report = json.load(f)
            results = {(r["workload"], r["name"]): r for r in report["results"]}

            ran = 0
            for w in workloads:
                for s in servers:
                    res = results.get((w, s))
                    self.assertIsNotNone(res, "%s/%s missing from the JSON" % (w, s) + detail)
                    if "skipped" in res:  # not applicable (nginx cannot echo) or missing
                        print("bench smoke: run.py skipped %s/%s: %s" % (w, s, res["skipped"]),
                              file=sys.stderr)
                        continue
                    ran += 1
                    where = "%s/%s: " % (w, s)
                    self.assertNotIn("error", res, where + res.get("error", "") + detail)
                    self.assertTrue(res["stop"]["clean"], where + "stop %s" % res["stop"])
                    phases = [k for k in ("h2load", "wrk", "wrk_base")
                              if "rps" in res.get(k, {})]
                    self.assertTrue(phases, where + "nothing measured" + detail)
                    for k in phases:
                        self.assertGreater(res[k]["rps"], 0, where + k + " zero req/s")
                        self.assertGreater(res[k]["requests"], 0, where + k)
                        self.assertEqual(res[k]["errors"], 0, where + k + " errors" + detail)
                    if w == "idle":
                        st = res["idle_stats"]
                        self.assertEqual(st["held"], st["requested"], where + str(st))
                        self.assertEqual(st["still_open_at_end"], st["requested"],
                                         where + str(st))
                    if w == "slow":
                        st = res["slow_stats"]
                        self.assertGreater(st["completed"], 0, where + str(st))
                        self.assertEqual(st["bad_answers"], 0, where + str(st))
            if not ran:
                self.skipTest("run.py skipped every server")

            self.assertTrue(os.path.exists(os.path.join(results_dir, "results.md")))
            if have_matplotlib():
                for png in ("bench_rps.png", "bench_p99.png"):
                    path = os.path.join(results_dir, png)
                    self.assertTrue(os.path.exists(path), path + detail)
                    with open(path, "rb") as f:
                        self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", path)
            else:
                print("bench smoke: matplotlib missing: charts not checked", file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
