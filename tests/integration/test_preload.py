"""--preload (issue 16): a zygote per generation imports the app once and forks the workers.

The shared framework suites run again on Flask and Django with --preload; then, on the
lifecycle app: /v1/status shows the zygote (not as a worker) and the workers are the
master's children; HUP under load loads the new code with no failed request and the old
zygote leaves; a SIGKILLed zygote costs no request, is restarted and forks again; an app
that starts a thread at import is logged by thread name and served without preload; a
reload whose code does not import leaves the old code serving.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_django  # noqa: E402  (module import: its TestCase is not collected here)
import test_flask  # noqa: E402
from harness import get, wait_until, worker_pids  # noqa: E402


class PreloadFlaskTest(test_flask.FlaskAppTest):
    """The Flask suite with --preload."""
    SERVER_FLAGS = tuple(test_flask.FlaskAppTest.SERVER_FLAGS) + ("--preload",)

    def test_workers_were_forked_by_the_zygote(self):
        log = self.server.log()
        self.assertIn("preload: zygote of generation 1", log)
        self.assertIn("imported the app and froze the gc", log)
        self.assertNotIn("without preload", log)


class PreloadDjangoTest(test_django.DjangoSiteTest):
    """The Django suite with --preload."""
    SERVER_FLAGS = tuple(test_django.DjangoSiteTest.SERVER_FLAGS) + ("--preload",)

    def test_workers_were_forked_by_the_zygote(self):
        self.assertIn("imported the app and froze the gc", self.server.log())
        self.assertNotIn("without preload", self.server.log())


def children(pid):
    """The pids whose parent is `pid` (workers and zygotes alike)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry))
            except OSError:
                pass
    return sorted(out)


def api_workers(server):
    """The pids of the workers the control API lists (the zygote is not one)."""
    return {w["pid"] for w in server.worker_list()}


class PreloadLifecycleTest(unittest.TestCase):
    def setUp(self):
        self.version_file = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        self.addCleanup(os.unlink, self.version_file.name)
        self.set_version("v1")

    def set_version(self, text):
        with open(self.version_file.name, "w") as f:
            f.write(text)

    def server(self, workers=2, *flags):
        return harness.ControlledServer(
            "lifecycle_app:app", "--preload", "-e",
            "LIFECYCLE_VERSION_FILE=" + self.version_file.name, *flags,
            workers=workers, threads=2)

    def zygote(self, server):
        return server.ctl_json("status").get("preload")

    def wait_zygote_ready(self, server, not_pid=0):
        ok = wait_until(lambda: (self.zygote(server) or {}).get("state") == "ready"
                        and self.zygote(server)["pid"] != not_pid, 10)
        self.assertTrue(ok, (self.zygote(server), server.log()))
        return self.zygote(server)

    def test_status_shows_the_zygote_and_workers_are_the_masters_children(self):
        ops_port = harness.free_port()
        with self.server(3, "--ops-bind", "127.0.0.1:%d" % ops_port) as server:
            z = self.wait_zygote_ready(server)
            metrics = get("http://127.0.0.1:%d/metrics" % ops_port)[1].decode()
            self.assertIn('wsgid_preload_zygote_state{state="ready"} 1', metrics)
            self.assertIn('wsgid_preload_zygote_state{state="starting"} 0', metrics)
            self.assertRegex(metrics, r"wsgid_preload_zygote_pss_bytes [1-9]")
            self.assertRegex(metrics, r'wsgid_worker_shared_memory_bytes\{worker="1"\} [1-9]')
            self.assertEqual(z["generation"], 1)
            self.assertTrue(harness.alive(z["pid"]))
            workers = [w["pid"] for w in server.worker_list()]
            self.assertEqual(len(workers), 3)
            self.assertNotIn(z["pid"], workers)
            # Forked through a middle process, adopted by the master (a subreaper).
            self.assertEqual(children(server.proc.pid), sorted(workers + [z["pid"]]))
            self.assertEqual(children(z["pid"]), [])
            self.assertIn("preload", server.ctl("status").stdout)
            # A worker dies with the master, never with the zygote: shown below; here the
            # scale-up forks at once from the ready zygote.
            server.ctl("scale", "5")
            self.assertTrue(wait_until(lambda: sum(
                w["state"] == "ready" for w in server.worker_list()) == 5, 10))
            self.assertEqual(len(children(server.proc.pid)), 6)

    def test_usr1_reopens_the_zygotes_error_log(self):
        # logrotate's rename, then USR1: the zygote (which stays up and keeps forking)
        # writes to the new file, as the master and the workers do.
        log_dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, log_dir, True)
        log = os.path.join(log_dir, "error.log")
        server = self.server(2, "--error-logfile", log)
        # The "serving" line the harness waits for goes to that file: wait for the port.
        server._wait_ready = lambda timeout: harness.wait_for_port(
            server.host, server.port, timeout, server.proc)
        with server:
            z = self.wait_zygote_ready(server)

            def zygote_log_files():
                names = set()
                for fd in os.listdir("/proc/%d/fd" % z["pid"]):
                    try:
                        target = os.readlink("/proc/%d/fd/%s" % (z["pid"], fd))
                    except OSError:
                        continue
                    if target.startswith(log_dir):
                        names.add(os.path.basename(target))
                return names

            self.assertEqual(zygote_log_files(), {"error.log"})
            os.rename(log, log + ".1")
            os.kill(server.proc.pid, signal.SIGUSR1)
            self.assertTrue(wait_until(lambda: zygote_log_files() == {"error.log"}, 10),
                            zygote_log_files())
            self.assertEqual(self.zygote(server)["pid"], z["pid"])  # it survived the signal
            self.assertEqual(self.zygote(server)["state"], "ready")

    def test_json_records_name_the_zygote_and_workers_signal_only_their_relays(self):
        # --log-format json: the zygote's records say "process": "preload" (worker 0 is
        # not the master), a forked worker's say "worker" with its id. On USR1 each forked
        # worker signals its own stdio relay only, never the zygote's (whose pid it would
        # otherwise keep from the fork): strace of the workers' kill() calls shows it.
        strace = harness.require_tool("strace", "Debian: strace")
        log_dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, log_dir, True)
        log = os.path.join(log_dir, "error.log")
        server = self.server(2, "--error-logfile", log, "--log-format", "json")
        server._wait_ready = lambda timeout: harness.wait_for_port(
            server.host, server.port, timeout, server.proc)
        with server:
            z = self.wait_zygote_ready(server)
            self.assertTrue(wait_until(lambda: len(server.worker_list()) == 2 and all(
                w["state"] == "ready" for w in server.worker_list()), 10))
            workers = sorted(api_workers(server))
            zygote_relay = children(z["pid"])
            self.assertEqual(len(zygote_relay), 1)  # the zygote's own stdio relay
            relays = {w: children(w) for w in workers}
            self.assertTrue(all(len(r) == 1 for r in relays.values()), relays)
            trace = os.path.join(log_dir, "trace")
            tracer = subprocess.Popen(
                [strace, "-f", "-qq", "-e", "trace=kill", "-o", trace] +
                [arg for w in workers for arg in ("-p", str(w))])
            try:
                self.assertTrue(wait_until(lambda: all(
                    "TracerPid:\t0\n" not in open("/proc/%d/status" % w).read()
                    for w in workers), 10))
                os.kill(server.proc.pid, signal.SIGUSR1)
                # Each worker signals its relay; then a second for any stray signal.
                # (strace may split a line: "kill(PID, SIGUSR1 <unfinished ...>".)
                self.assertTrue(wait_until(lambda: all(
                    "kill(%d, SIGUSR1" % relays[w][0] in open(trace).read()
                    for w in workers), 10), open(trace).read())
                time.sleep(1)
            finally:
                tracer.terminate()
                tracer.wait(10)
            kills = open(trace).read()
            targets = [int(pid) for pid in re.findall(r"kill\((\d+), SIGUSR1", kills)]
            self.assertNotIn(zygote_relay[0], targets, kills)
            self.assertEqual(sorted(targets), sorted(r[0] for r in relays.values()), kills)
        records = [json.loads(line) for line in open(log)]
        preload = [r for r in records if r["process"] == "preload"]
        self.assertTrue(any("imported the app" in r["message"] for r in preload), records)
        self.assertEqual({(r["pid"], r["worker"]) for r in preload}, {(z["pid"], 0)})
        booted = [r for r in records if r["message"].startswith("Booting worker")]
        self.assertEqual({(r["process"], r["pid"]) for r in booted},
                         {("worker", w) for w in workers})
        self.assertTrue(all(r["worker"] >= 1 for r in booted), booted)
        masters = [r for r in records if r["process"] == "master"]
        self.assertTrue(masters)
        self.assertEqual({(r["pid"], r["worker"]) for r in masters}, {(server.proc.pid, 0)})

    def test_json_records_on_stderr_are_the_workers_own(self):
        # The error log on "-" (the default): a forked worker's records go to the
        # master's stderr as the zygote's did, not into the zygote's stdio relay (which
        # took the zygote's descriptor 2 and would wrap each record in one of its own).
        with self.server(2, "--log-format", "json") as server:
            self.wait_zygote_ready(server)
            self.assertTrue(wait_until(lambda: len(server.worker_list()) == 2 and all(
                w["state"] == "ready" for w in server.worker_list()), 10))
            workers = sorted(api_workers(server))
            self.assertTrue(wait_until(lambda: server.log().count("Booting worker") >= 2, 5))
            text = server.log()
        records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        booted = [r for r in records if r["message"].startswith("Booting worker")]
        self.assertEqual(sorted((r["process"], r["pid"]) for r in booted),
                         [("worker", w) for w in workers], records)
        self.assertFalse([r for r in records if r["message"].startswith("{")], records)

    def test_hup_under_load_serves_new_code_and_drops_nothing(self):
        with self.server(2) as server:
            old = self.wait_zygote_ready(server)
            load = harness.Load(server.host, server.port, path="/", timeout=10)
            for i in range(3):
                time.sleep(0.5)
                self.set_version("v%d" % (i + 2))
                os.kill(server.proc.pid, signal.SIGHUP)
            self.assertTrue(wait_until(lambda: get(server.url + "/version")[1] == b"v4", 10))
            time.sleep(0.5)
            load.stop()
            self.assertEqual(load.failures, [])
            self.assertGreater(load.served, 50)
            new = self.wait_zygote_ready(server, not_pid=old["pid"])
            self.assertGreater(new["generation"], 1)
            # The old generations' zygotes leave once their workers have drained.
            self.assertTrue(wait_until(lambda: not harness.alive(old["pid"]), 10))
            self.assertTrue(wait_until(
                lambda: children(server.proc.pid) ==
                sorted([w["pid"] for w in server.worker_list()] + [new["pid"]]), 10),
                server.log())

    def test_zygote_killed_under_load_costs_nothing_and_is_restarted(self):
        with self.server(2) as server:
            old = self.wait_zygote_ready(server)
            workers = api_workers(server)
            load = harness.Load(server.host, server.port, path="/pid", timeout=10)
            time.sleep(0.3)
            os.kill(old["pid"], signal.SIGKILL)
            new = self.wait_zygote_ready(server, not_pid=old["pid"])
            time.sleep(0.3)
            load.stop()
            self.assertEqual(load.failures, [])
            self.assertIn("died; its workers keep serving", server.log())
            # Its workers kept serving (the same processes); the new zygote forks the
            # next ones.
            self.assertEqual(api_workers(server), workers)
            self.assertTrue(workers <= load.pids_seen, (workers, load.pids_seen))
            server.ctl("scale", "3")
            self.assertTrue(wait_until(lambda: sum(
                w["state"] == "ready" for w in server.worker_list()) == 3, 10))
            self.assertEqual(len(children(server.proc.pid)), 4)
            self.assertEqual(new["generation"], 1)

    def test_app_starting_a_thread_at_import_is_warned_and_served(self):
        with tempfile.TemporaryDirectory(prefix="wsgid-preload-") as tmp:
            with open(os.path.join(tmp, "threaded_app.py"), "w") as f:
                f.write("import os, threading, time\n"
                        "threading.Thread(target=time.sleep, args=(3600,), daemon=True,\n"
                        "                 name='import-time-poller').start()\n"
                        "def app(environ, start_response):\n"
                        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                        "    return [b'threaded ok']\n")
            with harness.ControlledServer("threaded_app:app", "--preload", workers=2,
                                          chdir=tmp) as server:
                self.assertEqual(get(server.url + "/")[1], b"threaded ok")
                log = server.log()
                self.assertIn("started 1 thread(s) while importing", log)
                self.assertIn("import-time-poller", log)
                self.assertIn("start without preload (zygote unsafe)", log)
                self.assertEqual(self.zygote(server)["state"], "unsafe")
                # The unsafe zygote exited by itself: the master's children are the two
                # workers.
                self.assertTrue(wait_until(lambda: len(worker_pids(server.proc.pid)) == 2,
                                           10))

    def test_reload_with_code_that_does_not_import_keeps_the_old_code(self):
        with self.server(2) as server:
            self.wait_zygote_ready(server)
            workers = api_workers(server)
            self.set_version("broken")
            answer = server.ctl("reload")
            self.assertEqual(answer.returncode, 0, answer.stderr)
            self.assertTrue(wait_until(lambda: "reload failed" in server.log(), 15),
                            server.log())
            self.assertIn("could not import the app", server.log())
            self.assertEqual(get(server.url + "/version")[1], b"v1")
            self.assertTrue(wait_until(lambda: self.zygote(server)["generation"] == 1
                                       and self.zygote(server)["state"] == "ready", 10),
                            self.zygote(server))
            zygote = self.zygote(server)["pid"]
            self.assertTrue(wait_until(
                lambda: api_workers(server) == workers
                and worker_pids(server.proc.pid) == workers | {zygote}, 10),
                (workers, worker_pids(server.proc.pid), server.log()))


if __name__ == "__main__":
    unittest.main()
