#!/usr/bin/python3
"""Smoke test of the scenario benchmark runner (tests/bench/scenario.py).

Runs `scenario.py --scenarios mixed --configs wsgid-auto --phase-seconds 1.5` (10 -> 100 -> 10
clients on /io and /cpu in turn, about 10 s in all) into a temp dir and checks that the load
generator was built and ran, every phase served requests, wsgid answered every one without
an error and stopped cleanly, the sampler saw its workers and threads, and results.md,
results.json and (with matplotlib) the PNG were written. Nothing is timed: no latency,
throughput, settle time or target is asserted.

Fails (it never skips) when wsgid is not built or g++ is missing; matplotlib is optional
(without it the chart is not checked). WSGID_BIN_DIR overrides build/bin, as in
tests/integration. Bounded at 120 s.

Run: /usr/bin/python3 tests/bench/test_scenario_smoke.py   (or python3 -m unittest from here)
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

RUNNER = os.path.join(HERE, "scenario.py")
PYTHON = harness.PYTHON
BIN_DIR = harness.BIN_DIR
TIMEOUT = 120


class ScenarioSmokeTest(unittest.TestCase):

    def test_quick_run(self):
        harness.require_tool(PYTHON)
        harness.require_binaries("wsgid", "wsgid-worker")
        harness.require_tool("g++", "the load generator is built with it")
        charts = harness.have_module("matplotlib")
        with tempfile.TemporaryDirectory(prefix="wsgid-scenario-smoke-") as tmp:
            results = os.path.join(tmp, "results")
            cmd = [PYTHON, RUNNER, "--scenarios", "mixed", "--configs", "wsgid-auto",
                   "--phase-seconds", "1.5", "--settle-before", "0.2",
                   "--bin-dir", BIN_DIR, "--results-dir", results]
            if not charts:
                cmd.append("--no-charts")
                print("\nscenario smoke: matplotlib missing: charts not checked",
                      file=sys.stderr)
            t0 = time.monotonic()
            returncode, out, err = harness.run_bounded(cmd, TIMEOUT)
            detail = "\n--- stdout\n%s\n--- stderr\n%s" % (out, err[-6000:])
            print("\nscenario smoke: %.1f s\n%s" % (time.monotonic() - t0, err[-3000:]),
                  file=sys.stderr)
            self.assertEqual(returncode, 0, "scenario.py failed" + detail)
            self.assertIn("| config |", out, "no table printed" + detail)
            with open(os.path.join(results, "results.json")) as f:
                report = json.load(f)
            res = report["results"]["mixed"]["wsgid-auto"]
            self.assertNotIn("error", res, res.get("error", "") + detail)
            self.assertTrue(res["stop"]["clean"], "stop: %s" % res["stop"])
            self.assertEqual([p["clients"] for p in res["phases"]], [10, 100, 10])
            for i, p in enumerate(res["phases"]):
                self.assertGreater(p["ok"], 0, "phase %d served nothing" % (i + 1) + detail)
                self.assertEqual(p["errors"], 0, "phase %d: %s" % (i + 1, p) + detail)
                self.assertIsNotNone(p["p99_ms"])
            self.assertTrue(res["samples"], "no samples")
            self.assertTrue(any(s.get("workers", 0) >= 1 and s.get("threads", 0) >= 1
                                for s in res["samples"]),
                            "the sampler never saw a worker" + detail)
            self.assertGreater(res["peak_rss_mb"], 0)
            self.assertGreater(res["rss_mb_s"], 0)
            self.assertTrue(report["targets"], "no targets evaluated")
            with open(os.path.join(results, "results.md")) as f:
                md = f.read()
            self.assertIn("## Targets", md)
            if charts:
                png = os.path.join(results, "scenario_mixed.png")
                with open(png, "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", png)


if __name__ == "__main__":
    unittest.main(verbosity=2)
