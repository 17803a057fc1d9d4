"""deploy/prometheus and dashboards/wsgid.json against a REAL Prometheus scraping a live
wsgid.

- promtool: `check rules` on the alerting rules, `test rules` on their unit tests
  (each alert fires on its pattern, not on its look-alike), `check config` on the scrape
  configurations.
- Live: wsgid (2 workers x 2 threads) serves a little load (fast, slow, 404 and failing
  requests) while Debian's Prometheus scrapes its ops port every second, with the `wsgid`
  job of deploy/prometheus/prometheus.yml and the alerting rules loaded. Then every PromQL
  expression is evaluated through the HTTP API (/api/v1/query) and must return data:
  each dashboard panel query and variable query; each alert expression, as written (it
  must evaluate) and with its comparisons turned into `bool` ones (so a quiet alert still
  returns a series: 0 or 1); each metric selector in them on its own; the
  prometheus-adapter query behind the HPA. So no expression refers to a metric wsgid does
  not export. The rules must also evaluate without error inside Prometheus.
About 20 s (the waits are bounded: 15 s for Prometheus to start, 25 s for 12 scrapes);
loopback only.
"""
import json
import math
import os
import sys
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PROM_DIR = os.path.join(harness.REPO, "deploy", "prometheus")
RULES = os.path.join(PROM_DIR, "wsgid-alerts.yml")
RULE_TESTS = os.path.join(PROM_DIR, "wsgid-alerts.test.yml")
SCRAPE = os.path.join(PROM_DIR, "prometheus.yml")
SCRAPE_K8S = os.path.join(PROM_DIR, "prometheus-kubernetes.yml")
DASHBOARD = os.path.join(harness.REPO, "dashboards", "wsgid.json")
ADAPTER = os.path.join(harness.REPO, "deploy", "k8s", "prometheus-adapter", "config.yaml")
RUNBOOK = os.path.join(harness.REPO, "deploy", "RUNBOOK.md")
RUNBOOK_URL = "https://github.com/wsgid/wsgid/blob/main/deploy/RUNBOOK.md#"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

RATE_INTERVAL = "10s"  # what $__rate_interval stands for at a 1 s scrape interval
POD_LABELS = {"namespace": "deploy-test", "pod": "wsgid-test-0"}  # as Kubernetes SD sets them

LOAD_APP = '''
import time

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("an app failure for the 5xx panel")
    if path == "/slow":
        time.sleep(0.05)
    status = "404 Not Found" if path == "/missing" else "200 OK"
    body = b"ok\\n"
    start_response(status, [("Content-Type", "text/plain"),
                            ("Content-Length", str(len(body)))])
    return [body]
'''

def selectors(expr):
    """The metric selectors of a PromQL expression: 'name{matchers}' strings."""
    return [name + matchers for name, matchers in harness.metric_selectors(expr)]


def boolify(expr):
    """expr with every filtering comparison made a `bool` one, so that it returns a series
    (0/1) whether or not the condition holds. Label matchers, strings and ranges are left
    alone."""
    out, i, depth, n = [], 0, 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch in "\"'`":
            j = i + 1
            while j < n and expr[j] != ch:
                j += 2 if expr[j] == "\\" else 1
            out.append(expr[i:j + 1])
            i = j + 1
            continue
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        if depth == 0:
            m = re.match(r"==|!=|>=|<=|>|<", expr[i:])
            if m:
                op = m.group(0)
                out.append(op)
                i += len(op)
                if not re.match(r"\s*bool\b", expr[i:]):
                    out.append(" bool")
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def dashboard_queries():
    """(where, expr) for every panel target, with the variables Grafana would fill in
    left as $job / $instance / $__rate_interval."""
    with open(DASHBOARD) as f:
        dash = json.load(f)
    out = []
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            out.append(("panel %r target %s" % (panel["title"], target["refId"]),
                        target["expr"]))
    return dash, out


def alert_rules():
    with open(RULES) as f:
        groups = yaml.safe_load(f)["groups"]
    return [r for g in groups for r in g["rules"]]


def adapter_rules():
    with open(ADAPTER) as f:
        return yaml.safe_load(f)["rules"]


def run(cmd, timeout=60, cwd=None):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)


class PromtoolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_tool(PROMTOOL, "Debian: prometheus; make setup installs it")

    def test_check_rules(self):
        proc = run([PROMTOOL, "check", "rules", RULES])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("SUCCESS: %d rules found" % len(alert_rules()), proc.stdout)

    def test_rule_unit_tests(self):
        proc = run([PROMTOOL, "test", "rules", RULE_TESTS], cwd=PROM_DIR)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        # Every alert has a unit test.
        with open(RULE_TESTS) as f:
            tested = {t["alertname"] for case in yaml.safe_load(f)["tests"]
                      for t in case.get("alert_rule_test", [])}
        self.assertEqual(tested, {r["alert"] for r in alert_rules()})

    def test_alerts_are_documented(self):
        required = {"WsgidWorkersFrozen", "WsgidWorkerCrashLoop", "WsgidSaturated",
                    "WsgidReloadFailed", "WsgidScrapeDown", "WsgidHighErrorRate",
                    "WsgidHighLatency", "WsgidTargetAbsent"}
        rules = {r["alert"]: r for r in alert_rules()}
        self.assertLessEqual(required, set(rules))
        self.assertIn('reason=~"heartbeat_timeout|request_timeout"',
                      rules["WsgidWorkersFrozen"]["expr"])
        for name, rule in rules.items():
            self.assertIn(rule["labels"].get("severity"), ("warning", "critical"), name)
            self.assertTrue(rule["annotations"].get("summary"), name)
            self.assertTrue(rule["annotations"].get("description"), name)

    def test_every_alert_has_a_runbook_section(self):
        with open(RUNBOOK) as f:
            sections = re.findall(r"^## (\w+)$", f.read(), re.M)
        rules = alert_rules()
        self.assertEqual(sorted(sections), sorted(r["alert"] for r in rules))
        for rule in rules:
            self.assertEqual(rule["annotations"].get("runbook_url"),
                             RUNBOOK_URL + rule["alert"].lower(), rule["alert"])

    def test_new_alert_shapes(self):
        rules = {r["alert"]: r for r in alert_rules()}
        # The error ratio needs a minimum of traffic; latency is p99 for 10 minutes.
        self.assertIn("rate(wsgid_http_requests_total[5m])) >= 1",
                      rules["WsgidHighErrorRate"]["expr"])
        latency = rules["WsgidHighLatency"]
        self.assertIn("histogram_quantile(0.99", latency["expr"])
        self.assertEqual(latency["for"], "10m")
        self.assertTrue(rules["WsgidTargetAbsent"]["expr"].startswith("absent("))

    def test_prometheus_rule_is_generated_from_the_rules(self):
        """deploy/k8s/monitoring/prometheusrule.yaml is wsgid-alerts.yml, regenerated."""
        proc = run([harness.PYTHON, os.path.join(PROM_DIR, "to_prometheusrule.py"), "--check"])
        self.assertEqual(proc.returncode, 0,
                         "prometheusrule.yaml is stale: run deploy/prometheus/"
                         "to_prometheusrule.py" + proc.stderr)

    def test_check_config(self):
        proc = run([PROMTOOL, "check", "config", SCRAPE])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_check_kubernetes_config(self):
        """Debian's Prometheus is built without Kubernetes discovery: check the rest of
        the file (relabelling included) with the discovery swapped for a static target."""
        with open(SCRAPE_K8S) as f:
            text = f.read()
        self.assertIn("kubernetes_sd_configs:\n      - role: pod\n", text)
        text = text.replace("kubernetes_sd_configs:\n      - role: pod\n",
                            "static_configs:\n      - targets: ['10.0.0.1:9180']\n")
        with tempfile.TemporaryDirectory(prefix="wsgid-promcfg-") as tmp:
            shutil.copy(RULES, tmp)
            path = os.path.join(tmp, "prometheus-kubernetes.yml")
            with open(path, "w") as f:
                f.write(text)
            proc = run([PROMTOOL, "check", "config", path])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


class HelpersTest(unittest.TestCase):
    def test_boolify(self):
        self.assertEqual(boolify('up{job=~"a|b", x!="y"} == 0'),
                         'up{job=~"a|b", x!="y"} == bool 0')
        self.assertEqual(boolify("a > 0 and on (j) b >= bool 1"),
                         "a > bool 0 and on (j) b >= bool 1")
        self.assertEqual(boolify("rate(x[5m]) < 3"), "rate(x[5m]) < bool 3")

    def test_selectors(self):
        self.assertEqual(
            selectors('histogram_quantile(0.9, sum by (le) (rate(h_bucket{job=~"$job"}'
                      '[$__rate_interval]))) and on (instance) up == 1e3'),
            ['h_bucket{job=~"$job"}', "up"])


class LivePrometheusTest(unittest.TestCase):
    """One wsgid, one Prometheus, a little load; every expression evaluated."""

    @classmethod
    def setUpClass(cls):
        harness.require_tool(PROMETHEUS, "Debian: prometheus; make setup installs it")
        cls.tmp = tempfile.mkdtemp(prefix="wsgid-prom-")
        cls.server = cls.prom = cls.prom_log = None
        cls.stop_load = threading.Event()
        cls.load_threads = []
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        app_dir = os.path.join(cls.tmp, "app")
        os.makedirs(app_dir)
        with open(os.path.join(app_dir, "load_app.py"), "w") as f:
            f.write(LOAD_APP)
        cls.ops_port = harness.free_port()
        cls.server = harness.Server(
            "load_app:app", "--ops-bind", "127.0.0.1:%d" % cls.ops_port,
            "--control-socket", "off", workers=2, threads=2, chdir=app_dir)
        cls.server.start()
        cls.target = "127.0.0.1:%d" % cls.ops_port

        # The `wsgid` job of the deploy configuration, pointed at the live ops port.
        with open(SCRAPE) as f:
            deploy = yaml.safe_load(f)
        job = next(j for j in deploy["scrape_configs"] if j["job_name"] == "wsgid")
        job = dict(job, scrape_interval="1s", scrape_timeout="1s",
                   static_configs=[{"targets": [cls.target], "labels": POD_LABELS}])
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "rule_files": [RULES], "scrape_configs": [job]}
        config_path = os.path.join(cls.tmp, "prometheus.yml")
        with open(config_path, "w") as f:
            yaml.safe_dump(config, f)
        cls.prom_port = harness.free_port()
        cls.prom_log = open(os.path.join(cls.tmp, "prometheus.log"), "wb")
        cls.prom = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config_path,
             "--storage.tsdb.path=" + os.path.join(cls.tmp, "data"),
             "--web.listen-address=127.0.0.1:%d" % cls.prom_port,
             "--log.level=info"],
            stdout=cls.prom_log, stderr=subprocess.STDOUT, start_new_session=True)

        for i in range(3):
            t = threading.Thread(target=cls._load, args=(i,), daemon=True)
            t.start()
            cls.load_threads.append(t)

        # Ready, then enough samples for every rate window and two rule evaluations.
        cls._wait(lambda: cls.api("/-/ready", raw=True) is not None, 15, "prometheus ready")
        cls._wait(lambda: cls.samples() >= 12, 25, "12 scrapes of wsgid")

    @classmethod
    def _load(cls, i):
        """Keep-alive request loop: mostly fast, some slow, some 404 and 500."""
        import http.client
        paths = ["/", "/", "/slow", "/missing", "/", "/boom"]
        conn = None
        n = i
        while not cls.stop_load.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", cls.server.port, timeout=5)
                conn.request("GET", paths[n % len(paths)])
                conn.getresponse().read()
                n += 1
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    @classmethod
    def tearDownClass(cls):
        cls.stop_load.set()
        for t in cls.load_threads:
            t.join(10)
        if cls.prom is not None and cls.prom.poll() is None:
            cls.prom.terminate()
            try:
                cls.prom.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(cls.prom.pid, signal.SIGKILL)
                cls.prom.wait()
        if cls.prom_log is not None:
            cls.prom_log.close()
        if cls.server is not None:
            cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def _wait(cls, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cls.prom.poll() is not None:
                break
            try:
                if cond():
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.25)
        raise RuntimeError("timed out waiting for %s; prometheus log:\n%s"
                           % (what, cls.prom_output()[-4000:]))

    @classmethod
    def prom_output(cls):
        with open(os.path.join(cls.tmp, "prometheus.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    @classmethod
    def api(cls, path, params=None, raw=False):
        url = "http://127.0.0.1:%d%s" % (cls.prom_port, path)
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                body = resp.read()
        except urllib.error.HTTPError as e:
            body = e.read()
            if raw:
                return None
        except OSError:
            if raw:
                return None
            raise
        return body if raw else json.loads(body)

    @classmethod
    def query(cls, expr):
        """/api/v1/query: (status, result list, error text)."""
        reply = cls.api("/api/v1/query", {"query": expr})
        return reply["status"], reply.get("data", {}).get("result", []), reply.get("error", "")

    @classmethod
    def samples(cls):
        _, result, _ = cls.query('count_over_time(up{job="wsgid"}[1m])')
        return int(float(result[0]["value"][1])) if result else 0

    def fill(self, expr):
        """What Grafana sends for expr with job = wsgid and instance = the live target."""
        return (expr.replace("$__rate_interval", RATE_INTERVAL)
                .replace("$job", "wsgid").replace("$instance", self.target))

    def assert_data(self, where, expr, finite=True):
        status, result, error = self.query(expr)
        self.assertEqual(status, "success", "%s: %s\n%s" % (where, expr, error))
        self.assertTrue(result, "%s returned no data: %s" % (where, expr))
        if finite:
            values = [float(r["value"][1]) for r in result]
            self.assertTrue(any(math.isfinite(v) for v in values),
                            "%s returned only NaN/Inf: %s -> %s" % (where, expr, values))
        return result

    # --- the tests ---------------------------------------------------------------------
    def test_every_dashboard_query_returns_data(self):
        _, queries = dashboard_queries()
        self.assertGreaterEqual(len(queries), 12)
        for where, expr in queries:
            with self.subTest(where):
                self.assert_data(where, self.fill(expr))

    def test_dashboard_annotations_evaluate(self):
        """Reloads and restarts/upgrades: valid PromQL on the live metrics; a SIGHUP
        reload is then marked by the reload annotation (an upgrade would replace the
        master this class scrapes, so that one is only evaluated)."""
        dash, _ = dashboard_queries()
        annotations = {a["name"]: a["expr"] for a in dash["annotations"]["list"]
                       if "expr" in a}
        self.assertEqual(sorted(annotations), ["Reloads", "Restarts and upgrades"])
        for expr in annotations.values():
            status, _, error = self.query(self.fill(expr))
            self.assertEqual(status, "success", "%s: %s" % (expr, error))
            for sel in selectors(expr):
                self.assert_data("annotation selector", self.fill(sel), finite=False)
        self.server.proc.send_signal(signal.SIGHUP)
        marked = lambda: self.query(self.fill(annotations["Reloads"]))[1]
        self._wait(marked, 20, "the reload annotation to mark the SIGHUP")
        self.assertEqual([r["metric"]["result"] for r in marked()], ["ok"])

    def test_dashboard_variables_find_the_target(self):
        dash, _ = dashboard_queries()
        found = {}
        for var in dash["templating"]["list"]:
            if var["type"] != "query":
                continue
            q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", q)
            self.assertIsNotNone(m, q)
            reply = self.api("/api/v1/label/%s/values" % m.group(2),
                             {"match[]": self.fill(m.group(1))})
            self.assertEqual(reply["status"], "success", reply)
            found[var["name"]] = reply["data"]
        self.assertIn("wsgid", found["job"])
        self.assertIn(self.target, found["instance"])

    def test_every_alert_expression_evaluates_and_returns_data(self):
        rules = alert_rules()
        for rule in rules:
            with self.subTest(rule["alert"]):
                expr = rule["expr"]
                # As written: valid and evaluable (quiet alerts return nothing).
                status, result, error = self.query(expr)
                self.assertEqual(status, "success", "%s: %s" % (rule["alert"], error))
                if expr.startswith("absent("):
                    # Quiet while the target is there; fires for a job that is not.
                    self.assertEqual(result, [], rule["alert"])
                    self.assert_data(rule["alert"] + " (no target)",
                                     expr.replace(".*wsgid.*", "no-such-job"))
                    continue
                # The comparisons as `bool`: a series for this target, firing or not.
                result = self.assert_data(rule["alert"] + " (bool)", boolify(expr))
                self.assertIn(self.target, [r["metric"].get("instance") for r in result],
                              rule["alert"])
                # Each metric it reads, on its own.
                for sel in selectors(expr):
                    self.assert_data("%s selector" % rule["alert"], sel, finite=False)

    def test_every_selector_is_a_live_metric(self):
        """Also against the exposition itself: every metric named by the dashboard, the
        rules and the adapter is in wsgid's /metrics (histograms by their series)."""
        with urllib.request.urlopen("http://%s/metrics" % self.target, timeout=10) as r:
            exposition = r.read().decode()
        live = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", exposition, re.M))
        live.add("up")  # Prometheus' own, per target
        _, queries = dashboard_queries()
        exprs = [e for _, e in queries] + [r["expr"] for r in alert_rules()] + [
            r["seriesQuery"] for r in adapter_rules()] + [
            r["metricsQuery"].replace("<<.LabelMatchers>>", "x=\"y\"")
            .replace("<<.GroupBy>>", "pod") for r in adapter_rules()]
        names = {re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", s).group(0)
                 for e in exprs for s in selectors(e)}
        self.assertGreaterEqual(len(names), 15)
        self.assertEqual(names - live, set(), "metrics wsgid does not export")

    def test_rules_evaluate_cleanly_in_prometheus(self):
        def evaluated():
            groups = self.api("/api/v1/rules")["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return rules if rules and all(r.get("lastEvaluation", "").startswith("2")
                                          and r.get("evaluationTime", 0) > 0
                                          for r in rules) else None
        deadline = time.monotonic() + 10
        while not evaluated() and time.monotonic() < deadline:
            time.sleep(0.25)
        rules = evaluated()
        self.assertTrue(rules, "rules never evaluated")
        self.assertEqual(sorted(r["name"] for r in rules),
                         sorted(r["alert"] for r in alert_rules()))
        for r in rules:
            self.assertEqual((r["name"], r["health"], r.get("lastError", "")),
                             (r["name"], "ok", ""))
        # wsgid is healthy: nothing fires except, possibly, the 5xx ratio our /boom drives.
        firing = {r["name"] for r in rules if r["state"] == "firing"}
        self.assertLessEqual(firing, {"WsgidHighErrorRate"})

    def test_adapter_query_gives_the_hpa_metric(self):
        for rule in adapter_rules():
            self.assert_data("adapter seriesQuery", rule["seriesQuery"], finite=False)
            matchers = ",".join('%s="%s"' % kv for kv in POD_LABELS.items())
            expr = (rule["metricsQuery"].replace("<<.LabelMatchers>>", matchers)
                    .replace("<<.GroupBy>>", "pod"))
            result = self.assert_data("adapter metricsQuery", expr)
            self.assertEqual([r["metric"] for r in result], [{"pod": POD_LABELS["pod"]}])
            ratio = float(result[0]["value"][1])
            self.assertTrue(0.0 <= ratio <= 1.0, ratio)

    def test_a_misspelt_metric_is_caught(self):
        """The checks above have teeth: a query naming an absent metric returns nothing."""
        _, queries = dashboard_queries()
        first = next(e for _, e in queries if "wsgid_http_requests_total" in e)
        expr = self.fill(first).replace("wsgid_http_requests_total", "wsgid_http_request_total")
        status, result, _ = self.query(expr)
        self.assertEqual((status, result), ("success", []))

    def test_load_was_seen(self):
        result = self.assert_data("requests", 'sum(wsgid_http_requests_total{job="wsgid"})')
        self.assertGreater(float(result[0]["value"][1]), 50)
        result = self.assert_data("5xx", 'sum(wsgid_http_requests_total{code="500"})')
        self.assertGreater(float(result[0]["value"][1]), 0)


if __name__ == "__main__":
    unittest.main()
