"""Lint of dashboards/wsgid.json: the conventions a Grafana dashboard for wsgid keeps.

schemaVersion >= 39; a top row of stat panels (ready workers, req/s, 5xx %, p99, the
version from wsgid_build_info), timeseries panels below; annotations for reloads and
restarts/upgrades; a datasource variable and job/instance query
variables; every panel and query on ${datasource}; every panel with a unit and a
description; every range in a query is [$__rate_interval]; every metric selector filtered
by $job and $instance; the panels the issue lists are there (worker-exit timeouts drawn to
stand out); panels do not overlap; every metric is one the README says wsgid exports.
(That the queries return data from a live wsgid is test_deploy_prometheus.py's job.)
"""
import json
import os
import sys
import re
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DASHBOARD = os.path.join(harness.REPO, "dashboards", "wsgid.json")
DS_REF = {"type": "prometheus", "uid": "${datasource}"}

# Grafana unit ids the panels may use (a typo such as "second" would show raw numbers).
UNITS = {"reqps", "s", "ms", "short", "bytes", "decbytes", "percentunit", "percent", "cps",
         "Bps", "ops", "none", "dtdurations"}

selectors = harness.metric_selectors


def exported_metrics():
    """wsgid_* names from the README's metrics list, with a histogram's series; the
    master's process_* family."""
    return harness.readme_metrics(histogram_series=True)


class DashboardLintTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(DASHBOARD) as f:
            cls.dash = json.load(f)
        cls.panels = cls.dash["panels"]

    def exprs(self):
        return [(p["title"], t["expr"]) for p in self.panels for t in p.get("targets", [])]

    def panel_with(self, metric):
        found = [p for p in self.panels if p["type"] == "timeseries"
                 and any(metric in t["expr"] for t in p["targets"])]
        self.assertTrue(found, "no panel shows %s" % metric)
        return found[0]

    def test_header(self):
        self.assertGreaterEqual(self.dash["schemaVersion"], 39)
        self.assertTrue(self.dash.get("uid"))
        self.assertTrue(self.dash.get("title"))
        self.assertNotIn("id", self.dash)  # an exported dashboard imports anywhere
        self.assertIn("wsgid", self.dash.get("tags", []))

    def test_variables(self):
        variables = {v["name"]: v for v in self.dash["templating"]["list"]}
        ds = variables["datasource"]
        self.assertEqual((ds["type"], ds["query"]), ("datasource", "prometheus"))
        for name, label in (("job", "job"), ("instance", "instance")):
            var = variables[name]
            self.assertEqual(var["type"], "query")
            self.assertEqual(var["datasource"], DS_REF)
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            m = re.fullmatch(r"label_values\((wsgid_[a-z_]+)(\{[^}]*\})?,\s*(\w+)\)", query)
            self.assertIsNotNone(m, query)
            self.assertEqual(m.group(3), label)
            self.assertTrue(var.get("multi") and var.get("includeAll"), name)
        self.assertIn('job=~"$job"', variables["instance"]["query"]["query"])

    def test_panels_are_timeseries_with_unit_and_description(self):
        self.assertGreaterEqual(len(self.panels), 12)
        ids = [p["id"] for p in self.panels]
        self.assertEqual(len(ids), len(set(ids)), "duplicate panel ids")
        for p in self.panels:
            with self.subTest(p["title"]):
                # The top row is stat panels, the rest time series.
                self.assertEqual(p["type"], "stat" if p["gridPos"]["y"] == 0 else "timeseries")
                self.assertGreater(len(p.get("description", "")), 30)
                unit = p["fieldConfig"]["defaults"].get("unit")
                self.assertIn(unit, UNITS)
                for o in p["fieldConfig"].get("overrides", []):
                    for prop in o["properties"]:
                        if prop["id"] == "unit":
                            self.assertIn(prop["value"], UNITS)
                self.assertEqual(p["datasource"], DS_REF)
                self.assertTrue(p["targets"])
                refs = [t["refId"] for t in p["targets"]]
                self.assertEqual(len(refs), len(set(refs)))
                for t in p["targets"]:
                    self.assertEqual(t["datasource"], DS_REF)
                    self.assertTrue(t.get("legendFormat"), "legend of %s" % t["refId"])

    def test_every_range_is_the_rate_interval(self):
        for title, expr in self.exprs():
            with self.subTest(title):
                ranges = re.findall(r"\[([^\]]*)\]", expr)
                self.assertEqual(set(ranges) - {"$__rate_interval"}, set(), expr)
                for fn in ("rate", "irate", "increase", "delta", "deriv"):
                    for m in re.finditer(r"\b%s\(" % fn, expr):
                        self.assertIn("[$__rate_interval]", expr[m.end():], expr)
                self.assertNotIn("irate(", expr)  # rate over the interval, not its last two

    def test_every_selector_is_filtered_by_job_and_instance(self):
        for title, expr in self.exprs():
            with self.subTest(title):
                sels = selectors(expr)
                self.assertTrue(sels, expr)
                for name, matchers in sels:
                    self.assertIn('job=~"$job"', matchers, "%s in %s" % (name, expr))
                    self.assertIn('instance=~"$instance"', matchers, "%s in %s" % (name, expr))

    def test_metrics_are_exported_by_wsgid(self):
        known = exported_metrics()
        self.assertIn("wsgid_http_requests_total", known)  # the README list was found
        for title, expr in self.exprs():
            for name, _ in selectors(expr):
                if not name.startswith("process_"):
                    self.assertIn(name, known, "%s (panel %r)" % (name, title))

    def test_required_panels(self):
        p = self.panel_with("wsgid_http_requests_total")
        self.assertIn("by (code)", p["targets"][0]["expr"])
        self.assertEqual(p["fieldConfig"]["defaults"]["unit"], "reqps")
        latency = self.panel_with("wsgid_http_request_duration_seconds_bucket")
        quantiles = sorted(re.search(r"histogram_quantile\(([0-9.]+)", t["expr"]).group(1)
                           for t in latency["targets"])
        self.assertEqual(quantiles, ["0.5", "0.9", "0.99"])
        for t in latency["targets"]:
            self.assertIn("by (le)", t["expr"])
        self.assertEqual(latency["fieldConfig"]["defaults"]["unit"], "s")
        self.panel_with("wsgid_http_requests_in_flight")
        workers = self.panel_with("wsgid_workers{")
        self.assertTrue(any("by (state)" in t["expr"] for t in workers["targets"]))
        self.assertTrue(any("wsgid_workers_desired" in t["expr"] for t in workers["targets"]))
        threads = self.panel_with("wsgid_worker_threads")
        self.assertIn("by (state)", threads["targets"][0]["expr"])
        self.panel_with("wsgid_listen_queue_length")
        self.panel_with("wsgid_config_reloads_total")
        self.panel_with("wsgid_autoscale_decisions_total")
        rss = self.panel_with("wsgid_worker_resident_memory_bytes")
        self.assertEqual(rss["fieldConfig"]["defaults"]["unit"], "bytes")
        self.assertIn("worker", rss["targets"][0]["legendFormat"])
        cpu = self.panel_with("process_cpu_seconds_total")
        self.assertIn("rate(process_cpu_seconds_total", cpu["targets"][0]["expr"])

    def test_worker_exit_timeouts_stand_out(self):
        exits = self.panel_with("wsgid_worker_exits_total")
        self.assertIn("by (reason)", exits["targets"][0]["expr"])
        overrides = exits["fieldConfig"]["overrides"]
        timeout = [o for o in overrides
                   if re.fullmatch(o["matcher"]["options"], "heartbeat_timeout")
                   and re.fullmatch(o["matcher"]["options"], "request_timeout")]
        self.assertTrue(timeout, "no override matches the timeout reasons")
        props = {p["id"]: p["value"] for p in timeout[0]["properties"]}
        self.assertEqual(props["color"], {"mode": "fixed", "fixedColor": "red"})
        self.assertGreater(props["custom.lineWidth"],
                           exits["fieldConfig"]["defaults"]["custom"]["lineWidth"])

    def test_top_row_of_stats(self):
        top = sorted((p for p in self.panels if p["gridPos"]["y"] == 0),
                     key=lambda p: p["gridPos"]["x"])
        exprs = [p["targets"][0]["expr"] for p in top]
        units = [p["fieldConfig"]["defaults"]["unit"] for p in top]
        self.assertEqual(len(top), 5, [p["title"] for p in top])
        self.assertIn('wsgid_workers{state="ready"', exprs[0])
        self.assertIn("rate(wsgid_http_requests_total{", exprs[1])
        self.assertEqual(units[1], "reqps")
        self.assertIn('code=~"5.."', exprs[2])
        self.assertEqual(units[2], "percentunit")
        self.assertIn("histogram_quantile(0.99", exprs[3])
        self.assertEqual(units[3], "s")
        self.assertIn("wsgid_build_info", exprs[4])
        self.assertIn("by (version)", exprs[4])
        self.assertEqual(top[4]["targets"][0]["legendFormat"], "{{version}}")
        self.assertEqual(top[4]["options"]["textMode"], "name")
        # Every stat is one number over the selected instances: one row of 24 columns.
        self.assertEqual(sum(p["gridPos"]["w"] for p in top), 24)

    def test_annotations_for_reloads_and_upgrades(self):
        queries = {a["name"]: a for a in self.dash["annotations"]["list"] if "expr" in a}
        reload_ = next(a for a in queries.values() if "wsgid_config_reloads_total" in a["expr"])
        upgrade = next(a for a in queries.values()
                       if "process_start_time_seconds" in a["expr"])
        self.assertIn("wsgid_build_info", upgrade["expr"])
        self.assertIn("{{version}}", upgrade["textFormat"])
        for a in (reload_, upgrade):
            self.assertEqual(a["datasource"], DS_REF)
            self.assertTrue(a["enable"])
            for name, matchers in selectors(a["expr"]):
                self.assertIn('job=~"$job"', matchers, a["name"])
                self.assertIn('instance=~"$instance"', matchers, a["name"])

    def test_layout(self):
        cells = set()
        for p in self.panels:
            g = p["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    self.assertNotIn((x, y), cells, "%r overlaps another panel" % p["title"])
                    cells.add((x, y))


if __name__ == "__main__":
    unittest.main()
