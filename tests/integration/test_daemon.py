"""The master process as users drive it: start-up failures, stops, reloads, pool size.

Runs the real wsgid on loopback with examples/lifecycle_app.py."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


get = harness.get
worker_pids = harness.worker_pids
alive = harness.alive
wait_until = harness.wait_until


class StartupFailureTest(unittest.TestCase):
    def run_wsgid(self, *args, cwd=None):
        return subprocess.run([harness.WSGID] + list(args),
                              capture_output=True, text=True, timeout=60, cwd=cwd)

    def test_app_that_fails_to_import_exits_3_with_the_traceback(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "broken.py"), "w") as f:
                f.write("def app(e, s):\n    return [\n")  # a syntax error
            port = harness.free_port()
            result = self.run_wsgid("-b", "127.0.0.1:%d" % port, "-w", "2", "--chdir", d,
                                    "broken:app")
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("SyntaxError", result.stderr)
        self.assertIn("broken.py", result.stderr)

    def test_missing_module_names_it(self):
        result = self.run_wsgid("-b", "127.0.0.1:%d" % harness.free_port(),
                                "no_such_module_here:app")
        self.assertEqual(result.returncode, 3)
        self.assertIn("No module named 'no_such_module_here'", result.stderr)

    def test_missing_callable_names_it(self):
        result = self.run_wsgid("-b", "127.0.0.1:%d" % harness.free_port(), "--chdir",
                                harness.EXAMPLES, "hello:nope")
        self.assertEqual(result.returncode, 3)
        self.assertIn("no attribute 'nope'", result.stderr)

    def test_bad_flags_exit_2_with_the_reason(self):
        result = self.run_wsgid("--workers", "many", "hello:app")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--workers", result.stderr)
        result = self.run_wsgid("--no-such-flag", "hello:app")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--no-such-flag", result.stderr)

    def test_port_in_use_exits_non_zero_with_the_reason(self):
        with harness.Server("hello:app") as server:
            result = self.run_wsgid("-b", "127.0.0.1:%d" % server.port, "--chdir",
                                    harness.EXAMPLES, "hello:app")
            self.assertEqual(result.returncode, 1, result.stderr)  # the README's code
            self.assertIn("Address already in use", result.stderr)
            self.assertEqual(get(server.url + "/")[0], 200)

    def test_ops_port_in_use_exits_1_naming_the_flag(self):
        # The ops server's "in use" keeps its code through the "--ops-bind:" prefix.
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with taken:
            result = self.run_wsgid(
                "-b", "127.0.0.1:%d" % harness.free_port(), "--ops-bind",
                "127.0.0.1:%d" % taken.getsockname()[1], "--control-socket", "off",
                "--chdir", harness.EXAMPLES, "hello:app")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("--ops-bind", result.stderr)

    def test_check_config(self):
        # issue 15: it imports the app too (in a worker process, as Gunicorn)
        result = self.run_wsgid("--check-config", "-w", "3", "--chdir", harness.EXAMPLES,
                                "hello:app")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.run_wsgid("--check-config", "--chdir", harness.EXAMPLES,
                                "no_such_module:app")
        self.assertEqual(result.returncode, 3, result.stderr)
        result = self.run_wsgid("--check-config", "--timeout", "-1", "hello:app")
        self.assertEqual(result.returncode, 2)


class ConfigFileTest(unittest.TestCase):
    """-c wsgid.toml and -c gunicorn.conf.py, at start and at a reload."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_failure(self, config_text, name="wsgid.toml"):
        path = self.write(name, config_text)
        result = subprocess.run(
            [harness.WSGID, "-c", path, "--chdir", harness.EXAMPLES,
             "-b", "127.0.0.1:%d" % harness.free_port(), "hello:app"],
            capture_output=True, text=True, timeout=30, start_new_session=True)
        return result

    def test_unknown_key_is_named_and_nothing_starts(self):
        result = self.start_failure("workers = 2\nwrokers = 3\n")
        self.assertEqual(result.returncode, 2)
        self.assertIn("wsgid.toml:2", result.stderr)
        self.assertIn("'wrokers'", result.stderr)

    def test_wrong_type_is_named(self):
        result = self.start_failure('timeout = "soon"\n')
        self.assertEqual(result.returncode, 2)
        self.assertIn("'timeout' must be a number of seconds, not a string", result.stderr)

    def test_toml_settings_apply_and_flags_win(self):
        path = self.write("wsgid.toml", 'workers = 3\nthreads = 2\nserver_header = "from-file"\n')
        with harness.Server("hello:app", "-c", path, workers=2) as server:
            with urllib.request.urlopen(server.url + "/", timeout=10) as response:
                self.assertEqual(response.headers["Server"], "from-file")
            # -w on the command line (2) beats the file (3).
            self.assertEqual(len(worker_pids(server.proc.pid)), 2)

    def test_gunicorn_conf_py_is_read_and_unsupported_settings_named(self):
        port = harness.free_port()
        path = self.write("gunicorn.conf.py",
                          "import multiprocessing\n"
                          "bind = '127.0.0.1:%d'\n"
                          "workers = 2\n"
                          "keepalive = 7\n"
                          "preload_app = True\n"
                          "helper_variable = multiprocessing.cpu_count()\n" % port)
        server = harness.Server("hello:app", "-c", path, bind=False)
        server.port = port
        with server:
            self.assertTrue(harness.wait_for_port("127.0.0.1", port, 20))
            self.assertEqual(get("http://127.0.0.1:%d/" % port)[0], 200)
            log = server.log()
            self.assertIn("preload: zygote of generation 1", log)  # preload_app (issue 16)
            # issue 15: every global that is not a setting is named (modules are not)
            self.assertIn("'helper_variable' is neither a Gunicorn setting", log)
            self.assertNotIn("'multiprocessing'", log)
            self.assertNotIn("'keepalive'", log)

    def test_reload_rereads_the_file_and_a_broken_file_keeps_serving(self):
        path = self.write("wsgid.toml", "workers = 1\n")
        # Without -w on the command line the file decides the count, also at reload.
        server = harness.Server("lifecycle_app:app", "-c", path)
        server.workers = None
        with server:
            self.assertTrue(wait_until(lambda: len(worker_pids(server.proc.pid)) == 1, 10))
            self.write("wsgid.toml", "workers = 3\n")
            os.kill(server.proc.pid, signal.SIGHUP)
            self.assertTrue(wait_until(lambda: len(worker_pids(server.proc.pid)) == 3, 15),
                            server.log())
            self.write("wsgid.toml", "workers = many\n")
            os.kill(server.proc.pid, signal.SIGHUP)
            self.assertTrue(wait_until(lambda: "invalid configuration" in server.log(), 10))
            self.assertEqual(get(server.url + "/")[0], 200)
            self.assertTrue(wait_until(lambda: len(worker_pids(server.proc.pid)) == 3, 10))


class StopTest(unittest.TestCase):
    def test_sigterm_lets_in_flight_requests_finish(self):
        server = harness.Server("lifecycle_app:app", "--graceful-timeout", "10", workers=2,
                                threads=10)
        with server:
            results = []

            def slow_request():
                try:
                    results.append(get(server.url + "/sleep?s=1.5", timeout=20))
                except Exception as e:  # recorded and asserted below
                    results.append(e)

            threads = [threading.Thread(target=slow_request) for _ in range(20)]
            for t in threads:
                t.start()
            time.sleep(0.5)  # all 20 are inside the app now
            workers = worker_pids(server.proc.pid)
            self.assertEqual(len(workers), 2)
            started = time.monotonic()
            code = server.stop(signal.SIGTERM, timeout=15)
            elapsed = time.monotonic() - started
            for t in threads:
                t.join(20)
            self.assertEqual(code, 0, server.log())
            self.assertLess(elapsed, 10)
            self.assertEqual([r for r in results if r != (200, b"slept")], [])
            self.assertEqual(len(results), 20)
            self.assertFalse(any(alive(p) for p in workers))

    def test_master_killed_takes_the_workers_with_it(self):
        with harness.Server("lifecycle_app:app", workers=3) as server:
            get(server.url + "/")
            workers = worker_pids(server.proc.pid)
            self.assertEqual(len(workers), 3)
            server.proc.kill()
            server.proc.wait()
            self.assertTrue(wait_until(lambda: not any(alive(p) for p in workers), 2.0),
                            "workers survived their master")


class PoolTest(unittest.TestCase):
    def test_a_dead_worker_is_replaced(self):
        with harness.Server("lifecycle_app:app", workers=2) as server:
            get(server.url + "/")
            before = worker_pids(server.proc.pid)
            victim = sorted(before)[0]
            os.kill(victim, signal.SIGKILL)
            self.assertTrue(wait_until(
                lambda: len(worker_pids(server.proc.pid) - {victim}) == 2, 10), server.log())
            self.assertEqual(get(server.url + "/")[0], 200)

    def test_ttin_and_ttou_change_the_worker_count(self):
        with harness.Server("lifecycle_app:app", workers=2) as server:
            get(server.url + "/")
            os.kill(server.proc.pid, signal.SIGTTIN)
            self.assertTrue(wait_until(lambda: len(worker_pids(server.proc.pid)) == 3, 10))
            # One signal at a time: two pending TTOUs would be delivered as one.
            for expected in (2, 1):
                os.kill(server.proc.pid, signal.SIGTTOU)
                self.assertTrue(
                    wait_until(lambda: len(worker_pids(server.proc.pid)) == expected, 10),
                    server.log())
            self.assertEqual(get(server.url + "/")[0], 200)


class FrozenWorkerTest(unittest.TestCase):
    """The timeout ladder: a frozen worker is killed and replaced, its stack is logged, and
    the other worker keeps serving throughout."""

    def freeze_and_watch(self, route, timeout_s=2):
        server = harness.Server("lifecycle_app:app", "--timeout", str(timeout_s), workers=2)
        with server:
            before = worker_pids(server.proc.pid)
            stuck = threading.Thread(target=lambda: self.request_quietly(server.url + route))
            stuck.start()
            started = time.monotonic()
            time.sleep(0.3)  # the request is inside the app now
            failures = []
            replaced_after = None
            while time.monotonic() - started < timeout_s + 8:
                try:
                    status, _ = get(server.url + "/", timeout=5)
                    if status != 200:
                        failures.append(status)
                except Exception as e:  # any failure of another route is a test failure
                    failures.append(repr(e))
                now = worker_pids(server.proc.pid)
                if replaced_after is None and len(now) == 2 and now != before and \
                        "killed after a timeout" in server.log():
                    replaced_after = time.monotonic() - started
                if replaced_after is not None and time.monotonic() - started > replaced_after + 1:
                    break
                time.sleep(0.05)
            stuck.join(10)
            log = server.log()
        print("\n%s: worker replaced %.2f s after the request started (timeout %d s)"
              % (route, replaced_after or -1, timeout_s), file=sys.stderr)
        self.assertIsNotNone(replaced_after, log)
        # Killed within timeout + 2 s; the bound adds 2 s for a busy 2-core machine.
        self.assertLess(replaced_after, timeout_s + 2 + 2, log)
        self.assertEqual(failures, [])
        self.assertIn("WORKER TIMEOUT", log)
        return log

    @staticmethod
    def request_quietly(url):
        try:
            get(url, timeout=30)
        except Exception:
            pass  # the worker serving it is killed: the connection drops

    def test_spinning_python_code_is_killed_with_its_stack_in_the_log(self):
        log = self.freeze_and_watch("/spin")
        # faulthandler's dump of every Python thread, pointing at the spinning line.
        self.assertIn("most recent call first", log)
        self.assertIn("lifecycle_app.py", log)
        self.assertIn('line', log)

    def test_a_blocking_call_is_caught_by_the_same_timeout(self):
        log = self.freeze_and_watch("/sleep?s=3600")
        self.assertIn("GET /sleep", log)  # the stuck request is named
        self.assertIn("most recent call first", log)


class OperationsTest(unittest.TestCase):
    """What service managers and operators rely on: recycling, pid file, sd_notify,
    privileges."""

    def test_max_requests_recycles_workers_without_a_failed_request(self):
        with harness.Server("lifecycle_app:app", "--max-requests", "15",
                            "--max-requests-jitter", "5", workers=2) as server:
            first = worker_pids(server.proc.pid)
            pids_seen = set()
            deadline = time.monotonic() + 20
            served = 0
            # Until replacements have served too (each worker recycles after 15-20).
            while time.monotonic() < deadline and len(pids_seen - first) < 2:
                # A new connection each time, so both workers take requests.
                status, body = get(server.url + "/pid")
                self.assertEqual(status, 200)
                pids_seen.add(int(body))
                served += 1
            self.assertGreaterEqual(len(pids_seen - first), 2, server.log())
            self.assertGreaterEqual(served, 30)
            self.assertIn("--max-requests", server.log())
            self.assertTrue(wait_until(lambda: len(worker_pids(server.proc.pid)) == 2, 10))

    def test_pid_file_is_written_and_removed(self):
        with tempfile.TemporaryDirectory() as d:
            pidfile = os.path.join(d, "wsgid.pid")
            server = harness.Server("hello:app", "--pid", pidfile)
            with server:
                with open(pidfile) as f:
                    self.assertEqual(int(f.read()), server.proc.pid)
            self.assertFalse(os.path.exists(pidfile))

    def test_sd_notify_ready_reloading_stopping(self):
        import socket
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "notify")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(path)
            sock.settimeout(15)
            server = harness.Server("hello:app", env={"NOTIFY_SOCKET": path})

            def next_state():  # STATUS= lines come every 5 s in between
                while True:
                    message = sock.recv(4096)
                    if not message.startswith((b"STATUS=", b"WATCHDOG=")):
                        return message
            with server:
                self.assertIn(b"READY=1", next_state())
                os.kill(server.proc.pid, signal.SIGHUP)
                self.assertIn(b"RELOADING=1", next_state())
                self.assertIn(b"READY=1", next_state())
                server.stop()
                self.assertIn(b"STOPPING=1", next_state())
            sock.close()

    @unittest.skipUnless(os.geteuid() == 0, "needs root to change users")
    def test_workers_run_as_the_given_user(self):
        with harness.Server("lifecycle_app:app", "--user", "nobody", "--group", "nogroup",
                            workers=2) as server:
            for pid in worker_pids(server.proc.pid):
                with open("/proc/%d/status" % pid) as f:
                    uid_line = [l for l in f if l.startswith("Uid:")][0]
                self.assertEqual(int(uid_line.split()[1]), 65534)
            self.assertEqual(get(server.url + "/")[0], 200)

    def test_unknown_user_stops_the_start(self):
        result = subprocess.run([harness.WSGID, "--user",
                                 "no-such-user-here", "hello:app"],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("no such user 'no-such-user-here'", result.stderr)


class ReExecTest(unittest.TestCase):
    def test_usr2_starts_a_new_master_and_the_old_one_drains_without_failures(self):
        with tempfile.TemporaryDirectory() as d:
            pidfile = os.path.join(d, "wsgid.pid")
            server = harness.Server("lifecycle_app:app", "--pid", pidfile, workers=2)
            with server:
                load = harness.Load(server.host, server.port, path="/", timeout=10)
                try:
                    time.sleep(0.5)
                    os.kill(server.proc.pid, signal.SIGUSR2)
                    self.assertTrue(wait_until(lambda: os.path.exists(pidfile + ".2"), 20),
                                    server.log())
                    with open(pidfile + ".2") as f:
                        new_master = int(f.read())
                    self.assertNotEqual(new_master, server.proc.pid)
                    time.sleep(0.5)
                    self.assertEqual(server.stop(signal.SIGTERM), 0)
                    time.sleep(1)
                finally:
                    load.stop()
                try:
                    self.assertEqual(load.failures, [])
                    self.assertGreater(load.served, 50)
                    self.assertTrue(alive(new_master))
                    self.assertEqual(get(server.url + "/")[0], 200)
                finally:
                    os.kill(new_master, signal.SIGTERM)
                    self.assertTrue(wait_until(lambda: not os.path.exists("/proc/%d" % new_master)
                                               or not alive(new_master), 15))


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.version_file = tempfile.NamedTemporaryFile("w", delete=False)
        self.version_file.write("v1")
        self.version_file.close()
        self.addCleanup(os.unlink, self.version_file.name)

    def set_version(self, text):
        with open(self.version_file.name, "w") as f:
            f.write(text)

    def test_sighup_under_load_drops_nothing_and_loads_new_code(self):
        server = harness.Server("lifecycle_app:app", "-e",
                                "LIFECYCLE_VERSION_FILE=" + self.version_file.name, workers=2,
                                threads=2)
        with server:
            self.assertEqual(get(server.url + "/version")[1], b"v1")
            load = harness.Load(server.host, server.port, path="/", timeout=10)
            for i in range(5):
                time.sleep(0.6)
                self.set_version("v%d" % (i + 2))
                os.kill(server.proc.pid, signal.SIGHUP)
            time.sleep(2)
            load.stop()
            self.assertEqual(load.failures, [])
            self.assertGreater(load.served, 100)
            self.assertTrue(wait_until(lambda: get(server.url + "/version")[1] == b"v6", 10))
            self.assertTrue(wait_until(lambda: len(worker_pids(server.proc.pid)) == 2, 10))

    def test_reload_with_broken_code_keeps_the_old_generation(self):
        server = harness.Server("lifecycle_app:app", "-e",
                                "LIFECYCLE_VERSION_FILE=" + self.version_file.name, workers=2)
        with server:
            workers = worker_pids(server.proc.pid)
            self.set_version("broken")
            os.kill(server.proc.pid, signal.SIGHUP)
            self.assertTrue(wait_until(lambda: "reload failed" in server.log(), 10),
                            server.log())
            self.assertEqual(get(server.url + "/version")[1], b"v1")
            # The new generation's other worker is SIGKILLed when the first fails to
            # import; it may not be reaped yet when the log line appears.
            self.assertTrue(
                wait_until(lambda: worker_pids(server.proc.pid) == workers, 10),
                (workers, worker_pids(server.proc.pid)))


if __name__ == "__main__":
    unittest.main()
