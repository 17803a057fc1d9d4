#!/usr/bin/python3
"""Smoke test of the benchmark runner: `run.py --quick` on the servers available here.

Runs tests/bench/run.py --quick --servers wsgid,nginx --workloads hello,post64k,idle,slow
(1 s per measured run, 200 idle connections, 4 slow clients; results.md and the charts go to a
temp dir) and checks, from its JSON, that every server that ran answered, served every request
of every phase without an error, held every idle connection, answered the slow clients, and
stopped cleanly; and that the markdown tables, results.md and (with matplotlib) the two PNG
charts were written. Nothing is timed. The tools it needs (h2load, wrk, nginx; make setup
installs them) and the built wsgid are required: a missing one FAILS the test with its name,
as does a run in which run.py skipped every server. matplotlib is optional (make
setup-bench): without it the charts are not checked.

WSGID_BIN_DIR overrides build/bin, as in tests/integration; WSGID_BENCH_SMOKE_SERVERS and
WSGID_BENCH_SMOKE_WORKLOADS override the lists (comma-separated run.py names). Takes about
20 s; bounded at 60 s.

Run: /usr/bin/python3 tests/bench/test_bench_smoke.py   (or python3 -m unittest from here)
"""
import json
import os
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402

RUNNER = os.path.join(HERE, "run.py")
PYTHON = harness.PYTHON
BIN_DIR = harness.BIN_DIR
SERVERS = os.environ.get("WSGID_BENCH_SMOKE_SERVERS", "wsgid,nginx").split(",")
WORKLOADS = os.environ.get("WSGID_BENCH_SMOKE_WORKLOADS", "hello,post64k,idle,slow").split(",")
TIMEOUT = 60


def require_server(server):
    """Fails the test when a run.py server cannot run on this machine."""
    if server == "wsgid":
        harness.require_binaries("wsgid", "wsgid-worker")
    elif server in ("nginx", "uwsgi"):
        harness.require_tool(server, "make setup-bench installs it")
    elif server.startswith("gunicorn") or server == "waitress":
        module = "waitress" if server == "waitress" else "gunicorn"
        if not harness.have_module(module):
            raise AssertionError("%s is not installed (make setup-bench)" % module)


class BenchSmokeTest(unittest.TestCase):

    def test_quick_run(self):
        harness.require_tool(PYTHON)
        for tool in ("h2load", "wrk"):  # Debian: nghttp2-client, wrk
            harness.require_tool(tool, "make setup installs it")
        for server in SERVERS:
            require_server(server)
        servers, workloads = SERVERS, WORKLOADS
        with tempfile.TemporaryDirectory(prefix="wsgid-bench-smoke-") as tmp:
            json_path = os.path.join(tmp, "bench.json")
            results_dir = os.path.join(tmp, "results")
            cmd = [PYTHON, RUNNER, "--quick", "--servers", ",".join(servers),
                   "--workloads", ",".join(workloads), "--bin-dir", BIN_DIR,
                   "--json", json_path, "--results-dir", results_dir]
            t0 = time.monotonic()
            returncode, out, err = harness.run_bounded(cmd, TIMEOUT)
            elapsed = time.monotonic() - t0
            detail = "\n--- stdout\n%s\n--- stderr\n%s" % (out, err[-6000:])
            print("\nbench smoke: %s in %.1f s\n%s" % (" ".join(cmd[1:]), elapsed, out),
                  file=sys.stderr)
            self.assertEqual(returncode, 0, "run.py failed" + detail)
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
            self.assertTrue(ran, "run.py skipped every server" + detail)

            self.assertTrue(os.path.exists(os.path.join(results_dir, "results.md")))
            if harness.have_module("matplotlib"):
                for png in ("bench_rps.png", "bench_p99.png"):
                    path = os.path.join(results_dir, png)
                    self.assertTrue(os.path.exists(path), path + detail)
                    with open(path, "rb") as f:
                        self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", path)
            else:
                print("bench smoke: matplotlib missing: charts not checked", file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
