"""deploy/k8s: `kubectl kustomize` renders it, and a policy check of the rendered objects.

The policy (problems() below) checks every field name against the known fields of the
objects used (a typo such as `readinesProbe` is caught, where Kubernetes would silently
drop it or a client would reject it late), that every name referenced exists (probe and
Service ports, volumes, selectors, the HPA's target and its adapter metric), the probes,
the ports in wsgid's own arguments, and the stop arithmetic
terminationGracePeriodSeconds > preStop sleep + --graceful-timeout. Mutated copies show
that each kind of mistake is caught.
"""
import copy
import os
import sys
import re
import subprocess
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

K8S = os.path.join(harness.REPO, "deploy", "k8s")
ADAPTER = os.path.join(K8S, "prometheus-adapter")
MONITORING = os.path.join(K8S, "monitoring")

# --- the known fields of the Kubernetes objects used (API reference, v1.30) ------------
# A dict lists an object's fields; S: a scalar; M: a string map (labels...); ANY: an
# object whose inside this test does not check; [x]: a list of x.
S, M, ANY = "scalar", "map", "any"

OBJECT_META = {"name": S, "namespace": S, "labels": M, "annotations": M,
               "generateName": S, "finalizers": [S], "ownerReferences": [ANY]}
LABEL_SELECTOR = {"matchLabels": M,
                  "matchExpressions": [{"key": S, "operator": S, "values": [S]}]}
HTTP_GET = {"path": S, "port": S, "host": S, "scheme": S,
            "httpHeaders": [{"name": S, "value": S}]}
TCP_SOCKET = {"port": S, "host": S}
EXEC = {"command": [S]}
PROBE = {"httpGet": HTTP_GET, "tcpSocket": TCP_SOCKET, "exec": EXEC,
         "grpc": {"port": S, "service": S}, "initialDelaySeconds": S, "periodSeconds": S,
         "timeoutSeconds": S, "successThreshold": S, "failureThreshold": S,
         "terminationGracePeriodSeconds": S}
HANDLER = {"exec": EXEC, "httpGet": HTTP_GET, "tcpSocket": TCP_SOCKET, "sleep": {"seconds": S}}
SECCOMP = {"type": S, "localhostProfile": S}
CONTAINER_SECURITY = {"allowPrivilegeEscalation": S, "readOnlyRootFilesystem": S,
                      "runAsNonRoot": S, "runAsUser": S, "runAsGroup": S, "privileged": S,
                      "capabilities": {"add": [S], "drop": [S]}, "seccompProfile": SECCOMP,
                      "appArmorProfile": SECCOMP, "seLinuxOptions": ANY, "procMount": S,
                      "windowsOptions": ANY}
POD_SECURITY = {"runAsUser": S, "runAsGroup": S, "runAsNonRoot": S, "fsGroup": S,
                "fsGroupChangePolicy": S, "supplementalGroups": [S],
                "supplementalGroupsPolicy": S, "seccompProfile": SECCOMP,
                "appArmorProfile": SECCOMP, "seLinuxOptions": ANY,
                "sysctls": [{"name": S, "value": S}], "windowsOptions": ANY}
CONTAINER = {
    "name": S, "image": S, "imagePullPolicy": S, "command": [S], "args": [S], "workingDir": S,
    "ports": [{"name": S, "containerPort": S, "protocol": S, "hostPort": S, "hostIP": S}],
    "env": [{"name": S, "value": S, "valueFrom": ANY}], "envFrom": [ANY],
    "resources": {"requests": M, "limits": M, "claims": [ANY]}, "resizePolicy": [ANY],
    "restartPolicy": S,
    "volumeMounts": [{"name": S, "mountPath": S, "readOnly": S, "subPath": S,
                      "subPathExpr": S, "mountPropagation": S, "recursiveReadOnly": S}],
    "volumeDevices": [ANY], "livenessProbe": PROBE, "readinessProbe": PROBE,
    "startupProbe": PROBE, "lifecycle": {"postStart": HANDLER, "preStop": HANDLER},
    "terminationMessagePath": S, "terminationMessagePolicy": S,
    "securityContext": CONTAINER_SECURITY, "stdin": S, "stdinOnce": S, "tty": S}
VOLUME = {"name": S, "emptyDir": {"medium": S, "sizeLimit": S}, "configMap": ANY,
          "secret": ANY, "persistentVolumeClaim": ANY, "projected": ANY, "downwardAPI": ANY,
          "hostPath": ANY, "ephemeral": ANY, "csi": ANY, "nfs": ANY, "image": ANY}
SPREAD = {"maxSkew": S, "topologyKey": S, "whenUnsatisfiable": S,
          "labelSelector": LABEL_SELECTOR, "minDomains": S, "matchLabelKeys": [S],
          "nodeAffinityPolicy": S, "nodeTaintsPolicy": S}
POD_SPEC = {
    "containers": [CONTAINER], "initContainers": [CONTAINER], "ephemeralContainers": [ANY],
    "volumes": [VOLUME], "terminationGracePeriodSeconds": S, "securityContext": POD_SECURITY,
    "serviceAccountName": S, "automountServiceAccountToken": S, "nodeSelector": M,
    "affinity": ANY, "tolerations": [ANY], "topologySpreadConstraints": [SPREAD],
    "priorityClassName": S, "priority": S, "restartPolicy": S, "dnsPolicy": S,
    "dnsConfig": ANY, "imagePullSecrets": [{"name": S}], "enableServiceLinks": S,
    "hostname": S, "subdomain": S, "shareProcessNamespace": S, "activeDeadlineSeconds": S,
    "schedulerName": S, "runtimeClassName": S, "hostNetwork": S, "hostPID": S, "hostIPC": S,
    "hostUsers": S, "readinessGates": [ANY], "overhead": M, "preemptionPolicy": S,
    "setHostnameAsFQDN": S, "os": {"name": S}, "schedulingGates": [ANY],
    "resourceClaims": [ANY], "hostAliases": [ANY], "nodeName": S}
POD_TEMPLATE = {"metadata": OBJECT_META, "spec": POD_SPEC}
DEPLOYMENT_SPEC = {
    "replicas": S, "selector": LABEL_SELECTOR, "template": POD_TEMPLATE,
    "strategy": {"type": S, "rollingUpdate": {"maxSurge": S, "maxUnavailable": S}},
    "minReadySeconds": S, "revisionHistoryLimit": S, "paused": S,
    "progressDeadlineSeconds": S}
SERVICE_SPEC = {
    "type": S, "selector": M,
    "ports": [{"name": S, "port": S, "targetPort": S, "protocol": S, "nodePort": S,
               "appProtocol": S}],
    "clusterIP": S, "clusterIPs": [S], "sessionAffinity": S, "sessionAffinityConfig": ANY,
    "externalTrafficPolicy": S, "internalTrafficPolicy": S, "ipFamilies": [S],
    "ipFamilyPolicy": S, "loadBalancerIP": S, "loadBalancerSourceRanges": [S],
    "loadBalancerClass": S, "externalIPs": [S], "externalName": S,
    "publishNotReadyAddresses": S, "healthCheckNodePort": S,
    "allocateLoadBalancerNodePorts": S, "trafficDistribution": S}
PDB_SPEC = {"minAvailable": S, "maxUnavailable": S, "selector": LABEL_SELECTOR,
            "unhealthyPodEvictionPolicy": S}
METRIC_TARGET = {"type": S, "value": S, "averageValue": S, "averageUtilization": S}
METRIC_ID = {"name": S, "selector": LABEL_SELECTOR}
SCALING_RULES = {"stabilizationWindowSeconds": S, "selectPolicy": S, "tolerance": S,
                 "policies": [{"type": S, "value": S, "periodSeconds": S}]}
HPA_SPEC = {
    "scaleTargetRef": {"apiVersion": S, "kind": S, "name": S},
    "minReplicas": S, "maxReplicas": S,
    "metrics": [{"type": S,
                 "pods": {"metric": METRIC_ID, "target": METRIC_TARGET},
                 "resource": {"name": S, "target": METRIC_TARGET},
                 "containerResource": {"name": S, "container": S, "target": METRIC_TARGET},
                 "object": {"describedObject": {"apiVersion": S, "kind": S, "name": S},
                            "metric": METRIC_ID, "target": METRIC_TARGET},
                 "external": {"metric": METRIC_ID, "target": METRIC_TARGET}}],
    "behavior": {"scaleUp": SCALING_RULES, "scaleDown": SCALING_RULES}}


def top(spec):
    return {"apiVersion": S, "kind": S, "metadata": OBJECT_META, "spec": spec}


SCHEMAS = {
    ("apps/v1", "Deployment"): top(DEPLOYMENT_SPEC),
    ("v1", "Service"): top(SERVICE_SPEC),
    ("policy/v1", "PodDisruptionBudget"): top(PDB_SPEC),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): top(HPA_SPEC),
    ("v1", "ConfigMap"): {"apiVersion": S, "kind": S, "metadata": OBJECT_META, "data": M,
                          "binaryData": M, "immutable": S},
}

ADAPTER_RULE = {"seriesQuery": S, "seriesFilters": [ANY],
                "resources": {"overrides": ANY, "template": S, "namespaced": S},
                "name": {"matches": S, "as": S}, "metricsQuery": S}


def schema_problems(value, schema, path):
    """Field names and shapes of value that schema does not know."""
    if schema == ANY:
        return []
    if schema == S:
        return [] if not isinstance(value, (dict, list)) else ["%s: expected a scalar" % path]
    if schema == M:
        if not isinstance(value, dict):
            return ["%s: expected a map" % path]
        return ["%s.%s: expected a string value" % (path, k)
                for k, v in value.items() if isinstance(v, (dict, list))]
    if isinstance(schema, list):
        if not isinstance(value, list):
            return ["%s: expected a list" % path]
        out = []
        for i, item in enumerate(value):
            out += schema_problems(item, schema[0], "%s[%d]" % (path, i))
        return out
    if not isinstance(value, dict):
        return ["%s: expected an object" % path]
    out = []
    for key, item in value.items():
        if key not in schema:
            out.append("%s.%s: unknown field" % (path, key))
        else:
            out += schema_problems(item, schema[key], "%s.%s" % (path, key))
    return out


# --- helpers --------------------------------------------------------------------------
def quantity(text):
    """A Kubernetes quantity as a float (cores or bytes)."""
    text = str(text)
    units = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2 ** 10, "Mi": 2 ** 20,
             "Gi": 2 ** 30, "Ti": 2 ** 40}
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", text)
    if not m or (m.group(2) and m.group(2) not in units):
        raise ValueError("not a quantity: %r" % text)
    return float(m.group(1)) * units.get(m.group(2), 1)


def flag(args, name):
    """The value of --name in args (either `--name value` or `--name=value`), or None."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def host_port(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def load_adapter_rules():
    with open(os.path.join(ADAPTER, "config.yaml")) as f:
        return yaml.safe_load(f)["rules"]


def exported_metrics():
    """Metric names the README says wsgid exports (the ops port section)."""
    return harness.readme_metrics()


def problems(objects, adapter_rules):
    """Everything wrong with the rendered objects; [] when the policy holds."""
    out = []
    by_kind = {}
    for obj in objects:
        key = (obj.get("apiVersion"), obj.get("kind"))
        name = "%s/%s" % (obj.get("kind"), obj.get("metadata", {}).get("name"))
        if key not in SCHEMAS:
            out.append("%s: unexpected apiVersion/kind %s" % (name, key))
            continue
        out += schema_problems(obj, SCHEMAS[key], name)
        by_kind.setdefault(obj["kind"], []).append(obj)
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        if len(by_kind.get(kind, [])) != 1:
            out.append("expected one %s, got %d" % (kind, len(by_kind.get(kind, []))))
    if out:
        return out

    dep = by_kind["Deployment"][0]
    svc = by_kind["Service"][0]
    pdb = by_kind["PodDisruptionBudget"][0]
    hpa = by_kind["HorizontalPodAutoscaler"][0]
    spec = dep["spec"]
    pod_labels = spec["template"]["metadata"].get("labels", {})
    pod = spec["template"]["spec"]

    # Selectors select the pods.
    if not selects(spec["selector"].get("matchLabels"), pod_labels):
        out.append("Deployment selector does not match its pod template labels")
    if not selects(svc["spec"].get("selector"), pod_labels):
        out.append("Service selector does not match the pod labels")
    if not selects(pdb["spec"]["selector"].get("matchLabels"), pod_labels):
        out.append("PodDisruptionBudget selector does not match the pod labels")
    if "replicas" in spec:
        out.append("Deployment sets replicas: the HPA owns the count")

    containers = {c["name"]: c for c in pod["containers"]}
    c = containers.get("wsgid")
    if c is None:
        return out + ["no container named wsgid"]
    args = c.get("args", [])
    ports = {p.get("name"): p for p in c.get("ports", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}

    # Ports: the ones wsgid binds are the ones declared.
    bind = flag(args, "--bind") or flag(args, "-b")
    ops_bind = flag(args, "--ops-bind")
    if bind is None or ops_bind is None:
        out.append("wsgid args need --bind and --ops-bind")
        return out
    if "http" not in ports or host_port(bind)[1] != ports["http"]["containerPort"]:
        out.append("--bind %s is not the container port named http" % bind)
    if "ops" not in ports or host_port(ops_bind) != ("0.0.0.0", ports["ops"]["containerPort"]):
        out.append("--ops-bind %s must be 0.0.0.0:<the container port named ops>" % ops_bind)
    annotations = spec["template"]["metadata"].get("annotations", {})
    if "ops" in ports and annotations.get("prometheus.io/port") != str(
            ports["ops"]["containerPort"]):
        out.append("prometheus.io/port annotation is not the ops port")

    # Probes: on the ops port, by name, the right paths.
    expected = {"startupProbe": ("/readyz", "/livez"), "readinessProbe": ("/readyz",),
                "livenessProbe": ("/livez",)}
    for probe_name, paths in expected.items():
        probe = c.get(probe_name)
        if probe is None:
            out.append("%s missing" % probe_name)
            continue
        get = probe.get("httpGet", {})
        if get.get("path") not in paths:
            out.append("%s path %r, expected %s" % (probe_name, get.get("path"), paths))
        if get.get("port") != "ops":
            out.append("%s port %r: use the named ops port" % (probe_name, get.get("port")))
        elif "ops" not in ports:
            out.append("%s refers to a missing port ops" % probe_name)
    startup = c.get("startupProbe", {})
    budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
    if budget < 30:
        out.append("startupProbe gives the app only %d s to import" % budget)

    # Service ports refer to declared container ports.
    for p in svc["spec"]["ports"]:
        target = p.get("targetPort")
        if isinstance(target, str) and target not in ports:
            out.append("Service port %s targets missing container port %r"
                       % (p.get("name"), target))
        if isinstance(target, int) and target not in [q["containerPort"] for q in ports.values()]:
            out.append("Service port %s targets undeclared port %d" % (p.get("name"), target))

    # Volumes: every mount names a volume, every volume is mounted.
    for m in c.get("volumeMounts", []):
        if m["name"] not in volumes:
            out.append("volumeMount %s names a missing volume %r" % (m["mountPath"], m["name"]))
    mounted = {m["name"] for ct in pod["containers"] for m in ct.get("volumeMounts", [])}
    for name in volumes:
        if name not in mounted:
            out.append("volume %r is never mounted" % name)

    # The control socket in an emptyDir.
    control = flag(args, "--control-socket")
    if control is None or control == "off":
        out.append("--control-socket must name a path in an emptyDir")
    else:
        mount = mounts.get(os.path.dirname(control))
        if mount is None:
            out.append("--control-socket %s: its directory is not a volumeMount" % control)
        elif "emptyDir" not in volumes.get(mount["name"], {}):
            out.append("--control-socket %s: its volume is not an emptyDir" % control)

    # Stop arithmetic: preStop sleep + graceful timeout < grace period.
    pre = c.get("lifecycle", {}).get("preStop", {})
    if "sleep" in pre:
        pre_stop = float(pre["sleep"]["seconds"])
    elif pre.get("exec", {}).get("command", [None])[0] in ("sleep", "/bin/sleep"):
        pre_stop = float(pre["exec"]["command"][1])
    else:
        out.append("preStop must be a sleep")
        pre_stop = 0.0
    graceful = float(flag(args, "--graceful-timeout") or 30)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if not grace > pre_stop + graceful:
        out.append("terminationGracePeriodSeconds %s <= preStop %s + --graceful-timeout %s"
                   % (grace, pre_stop, graceful))

    # No API token in a pod that never calls the API; pods spread over zones and nodes.
    if pod.get("automountServiceAccountToken") is not False:
        out.append("automountServiceAccountToken must be false")
    spread = pod.get("topologySpreadConstraints", [])
    keys = {t.get("topologyKey") for t in spread}
    for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname"):
        if key not in keys:
            out.append("topologySpreadConstraints: none over %s" % key)
    for t in spread:
        if not selects(t.get("labelSelector", {}).get("matchLabels"), pod_labels):
            out.append("topologySpreadConstraint over %s does not select the pods"
                       % t.get("topologyKey"))

    # Resources: requests and limits for cpu and memory, requests <= limits.
    res = c.get("resources", {})
    for kind in ("cpu", "memory"):
        req, lim = res.get("requests", {}).get(kind), res.get("limits", {}).get(kind)
        if req is None or lim is None:
            out.append("resources: %s needs a request and a limit" % kind)
        elif quantity(req) > quantity(lim):
            out.append("resources: %s request %s above its limit %s" % (kind, req, lim))

    # The HPA scales this Deployment on a metric the adapter serves.
    ref = hpa["spec"]["scaleTargetRef"]
    if (ref.get("apiVersion"), ref.get("kind"), ref.get("name")) != (
            dep["apiVersion"], "Deployment", dep["metadata"]["name"]):
        out.append("HPA scaleTargetRef %s does not name the Deployment" % ref)
    served = {r["name"]["as"]: r for r in adapter_rules}
    for m in hpa["spec"].get("metrics", []):
        if m.get("type") != "Pods":
            continue
        metric = m["pods"]["metric"]["name"]
        if metric not in served:
            out.append("HPA metric %r is served by no prometheus-adapter rule" % metric)
    if hpa["spec"].get("minReplicas", 1) < 2:
        out.append("HPA minReplicas < 2: a disruption would leave no pod")
    if "maxUnavailable" in pdb["spec"] and quantity(pdb["spec"]["maxUnavailable"]) >= \
            hpa["spec"].get("minReplicas", 1):
        out.append("PodDisruptionBudget allows every pod down at minReplicas")
    return out


def kustomize(path):
    kubectl = harness.require_tool("kubectl", "cannot render deploy/k8s without it")
    proc = subprocess.run([kubectl, "kustomize", path], capture_output=True, text=True,
                          timeout=60)
    if proc.returncode != 0:
        raise AssertionError("kubectl kustomize %s failed:\n%s" % (path, proc.stderr))
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


class KustomizeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objects = kustomize(K8S)
        cls.rules = load_adapter_rules()

    def deployment(self, objects):
        return next(o for o in objects if o["kind"] == "Deployment")

    def container(self, objects):
        return self.deployment(objects)["spec"]["template"]["spec"]["containers"][0]

    def test_renders_the_four_objects(self):
        kinds = sorted(o["kind"] for o in self.objects)
        self.assertEqual(kinds, ["Deployment", "HorizontalPodAutoscaler",
                                 "PodDisruptionBudget", "Service"])
        for o in self.objects:
            self.assertEqual(o["metadata"]["labels"].get("app.kubernetes.io/part-of"), "wsgid")
        self.assertEqual(self.container(self.objects)["image"],
                         "registry.example.com/wsgid:0.1.0")

    def test_policy_holds(self):
        self.assertEqual(problems(self.objects, self.rules), [])

    def test_container_args_are_valid_wsgid_options(self):
        """wsgid --check-config parses the container's args (paths of the image aside)."""
        args = self.container(self.objects)["args"]
        # --check-config imports the app (issue 15): the image's /srv/app is examples/ here
        args = [harness.EXAMPLES if a == "/srv/app" else a for a in args]
        proc = subprocess.run([harness.WSGID, "--check-config"]
                              + args, capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_adapter_rule_renders_and_is_well_formed(self):
        objects = kustomize(ADAPTER)
        self.assertEqual([o["kind"] for o in objects], ["ConfigMap"])
        self.assertEqual(problems(objects, self.rules)[:1],
                         ["expected one Deployment, got 0"])  # schema itself is clean
        self.assertEqual(schema_problems(objects[0], SCHEMAS[("v1", "ConfigMap")], "cm"), [])
        rules = yaml.safe_load(objects[0]["data"]["config.yaml"])["rules"]
        self.assertEqual(rules, self.rules)
        known = exported_metrics()
        for i, rule in enumerate(rules):
            self.assertEqual(schema_problems(rule, ADAPTER_RULE, "rules[%d]" % i), [])
            series = re.match(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", rule["seriesQuery"]).group(1)
            self.assertIn(series, known, "the adapter reads a metric wsgid does not export")
            self.assertIn("<<.LabelMatchers>>", rule["metricsQuery"])
            self.assertIn("<<.GroupBy>>", rule["metricsQuery"])
            self.assertEqual(set(rule["resources"]["overrides"]), {"namespace", "pod"})

    # --- the policy has teeth: each kind of mistake is caught ---------------------------
    def mutated(self, change):
        objects = copy.deepcopy(self.objects)
        change(objects)
        return problems(objects, self.rules)

    def test_catches_a_misspelt_field(self):
        def typo(objects):
            c = self.container(objects)
            c["readinesProbe"] = c.pop("readinessProbe")
        self.assertEqual(self.mutated(typo), [
            "Deployment/wsgid.spec.template.spec.containers[0].readinesProbe: unknown field"])

    def test_catches_a_misspelt_nested_field(self):
        def typo(objects):
            hpa = next(o for o in objects if o["kind"] == "HorizontalPodAutoscaler")
            hpa["spec"]["behavior"]["scaleDown"]["stabilisationWindowSeconds"] = 60
        self.assertEqual(self.mutated(typo), [
            "HorizontalPodAutoscaler/wsgid.spec.behavior.scaleDown."
            "stabilisationWindowSeconds: unknown field"])

    def test_catches_a_missing_port_name(self):
        def rename(objects):
            for p in self.container(objects)["ports"]:
                if p["name"] == "ops":
                    p["name"] = "metrics"
        found = self.mutated(rename)
        self.assertTrue(any("livenessProbe refers to a missing port ops" in p for p in found),
                        found)
        self.assertTrue(any("--ops-bind" in p for p in found), found)

    def test_catches_a_short_grace_period(self):
        def shorten(objects):
            self.deployment(objects)["spec"]["template"]["spec"][
                "terminationGracePeriodSeconds"] = 30
        found = self.mutated(shorten)
        self.assertEqual(len(found), 1, found)
        self.assertIn("terminationGracePeriodSeconds 30 <= preStop 5.0 + --graceful-timeout "
                      "25.0", found[0])

    def test_catches_an_unspread_pod_with_a_token(self):
        def unspread(objects):
            pod = self.deployment(objects)["spec"]["template"]["spec"]
            pod["automountServiceAccountToken"] = True
            pod["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"] = {"a": "b"}
            del pod["topologySpreadConstraints"][1]
        self.assertEqual(self.mutated(unspread), [
            "automountServiceAccountToken must be false",
            "topologySpreadConstraints: none over kubernetes.io/hostname",
            "topologySpreadConstraint over topology.kubernetes.io/zone does not select the pods"])

    def test_catches_broken_references(self):
        def break_refs(objects):
            for o in objects:
                if o["kind"] == "Service":
                    o["spec"]["ports"][0]["targetPort"] = "web"
                    o["spec"]["selector"]["app.kubernetes.io/name"] = "wsgi"
                if o["kind"] == "HorizontalPodAutoscaler":
                    o["spec"]["scaleTargetRef"]["name"] = "wsgi"
                    o["spec"]["metrics"][0]["pods"]["metric"]["name"] = "wsgid_busy_ratio"
            self.container(objects)["volumeMounts"][0]["name"] = "ctrl"
        found = "\n".join(self.mutated(break_refs))
        for text in ("targets missing container port 'web'", "Service selector",
                     "scaleTargetRef", "'wsgid_busy_ratio' is served by no",
                     "names a missing volume 'ctrl'", "volume 'control' is never mounted",
                     "--control-socket /run/wsgid/control.sock: its volume is not an emptyDir"):
            self.assertIn(text, found)


class MonitoringTest(unittest.TestCase):
    """deploy/k8s/monitoring: a PodMonitor and a PrometheusRule (prometheus-operator) and
    the dashboard ConfigMap for Grafana's sidecar, each derived from the one source."""

    @classmethod
    def setUpClass(cls):
        cls.objects = kustomize(MONITORING)
        cls.by_kind = {o["kind"]: o for o in cls.objects}
        cls.app = kustomize(K8S)

    def test_renders_the_three_objects(self):
        self.assertEqual(sorted(o["kind"] for o in self.objects),
                         ["ConfigMap", "PodMonitor", "PrometheusRule"])
        for o in self.objects:
            self.assertEqual(o["metadata"]["labels"].get("app.kubernetes.io/part-of"), "wsgid")
        monitoring = [o for o in self.objects if o["kind"] != "ConfigMap"]
        for o in monitoring:
            self.assertEqual(o["apiVersion"], "monitoring.coreos.com/v1")

    def test_pod_monitor_scrapes_the_ops_port(self):
        pm = self.by_kind["PodMonitor"]["spec"]
        dep = next(o for o in self.app if o["kind"] == "Deployment")
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        self.assertTrue(selects(pm["selector"]["matchLabels"], pod_labels))
        container = dep["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"] for p in container["ports"]}
        (endpoint,) = pm["podMetricsEndpoints"]
        self.assertIn(endpoint["port"], ports)
        self.assertEqual(endpoint["port"], "ops")
        self.assertEqual(endpoint["path"], "/metrics")

    def test_prometheus_rule_is_the_alert_file(self):
        with open(os.path.join(harness.REPO, "deploy", "prometheus", "wsgid-alerts.yml")) as f:
            groups = yaml.safe_load(f)["groups"]
        self.assertEqual(self.by_kind["PrometheusRule"]["spec"]["groups"], groups)

    def test_dashboard_config_map_is_the_dashboard(self):
        cm = self.by_kind["ConfigMap"]
        self.assertEqual(cm["metadata"]["name"], "wsgid-dashboard")
        self.assertEqual(cm["metadata"]["labels"].get("grafana_dashboard"), "1")
        with open(os.path.join(harness.REPO, "dashboards", "wsgid.json")) as f:
            self.assertEqual(cm["data"]["wsgid.json"], f.read())


if __name__ == "__main__":
    unittest.main()
