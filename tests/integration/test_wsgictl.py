"""wsgictl against a real wsgid: every command's output and exit code.

The servers run with `--control-socket <tmpdir>/ctl.sock` (harness.ControlledServer). Every
test runs: a missing wsgid or wsgictl fails them. The interactive `top` test drives a real
terminal in tmux, and fails when tmux is not installed (make setup installs it)."""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WSGICTL = harness.WSGICTL
ctl = harness.wsgictl
wait_until = harness.wait_until
get = harness.get
ControlledServer = harness.ControlledServer

# An app whose import never finishes (within any test's patience): the pool never gets
# ready, yet the master and its control API are up.
SLOW_IMPORT_APP = """\
import time
time.sleep(120)


def app(environ, start_response):
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]
"""

# A worker's row in the tables: ID, PID, GEN, then the state.
WORKER_ROW = re.compile(r"^\s*\d+\s+\d+\s+\d+\s+(starting|ready|draining)\s")


def table_rows(text, first_column="ID"):
    """The lines of a table from its header line (starting with `first_column`) on."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.split()[:1] == [first_column]:
            return lines[i], [l for l in lines[i + 1:] if l.strip()]
    raise AssertionError("no table with a %s column in:\n%s" % (first_column, text))


class UsageTest(unittest.TestCase):
    """What needs no daemon: help, usage errors (2), an unreachable daemon (3)."""

    def test_help_lists_every_command_and_exits_0(self):
        result = ctl("--help", check=0)
        for command in ("status", "workers", "scale", "threads", "reload", "autoscale",
                        "worker restart|kill", "top", "wait-ready", "stop", "version"):
            self.assertIn(command, result.stdout)

    def test_usage_errors_exit_2_naming_what_is_wrong(self):
        cases = [
            ([], "no command"),
            (["frobnicate"], "frobnicate"),
            (["scale"], "N, +N or -N"),
            (["scale", "many"], "many"),
            (["scale", "2", "3"], "'3'"),
            (["threads", "1.5"], "1.5"),
            (["worker", "poke", "1"], "poke"),
            (["worker", "kill"], "restart|kill ID"),
            (["worker", "kill", "one"], "one"),
            (["autoscale", "maybe"], "maybe"),
            (["autoscale", "on", "--min", "5", "--max", "2"], "--min 5"),
            (["autoscale", "--min"], "--min"),
            (["wait-ready", "--timeout", "soon"], "soon"),
            (["top", "--interval", "0"], "--interval"),
            (["status", "--verbose"], "--verbose"),
            (["stop", "--graceful=yes"], "--graceful"),
            (["-o", "yaml", "status"], "yaml"),
            (["--url", "ftp://127.0.0.1:1", "status"], "ftp://"),
            (["--url", "http://127.0.0.1:99999", "status"], "99999"),
            (["--url", "http://127.0.0.1:1", "-s", "/tmp/x.sock", "status"], "--socket"),
            (["--url", "http://127.0.0.1:1", "--token-file", "/nonexistent/token",
              "status"], "/nonexistent/token"),
            (["-s", "/tmp/" + "x" * 120 + ".sock", "status"], "longer than"),
            (["--socket"], "--socket"),
        ]
        for args, named in cases:
            with self.subTest(args=args):
                result = ctl(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(named, result.stderr)
                self.assertEqual(result.stdout, "")

    def test_unreachable_socket_exits_3_naming_it(self):
        with tempfile.TemporaryDirectory() as d:
            sock = os.path.join(d, "none.sock")
            for args in (["status"], ["workers"], ["scale", "2"], ["reload"],
                         ["worker", "kill", "1"], ["top", "--once"], ["stop"]):
                with self.subTest(args=args):
                    result = ctl(*args, sock=sock)
                    self.assertEqual(result.returncode, 3, result.stderr)
                    self.assertIn(sock, result.stderr)
                    self.assertIn("No such file or directory", result.stderr)
            # A socket file nobody listens on: refused, not missing.
            with open(os.path.join(d, "stale.sock"), "w"):
                pass
            result = ctl("status", sock=os.path.join(d, "stale.sock"))
            self.assertEqual(result.returncode, 3)
            self.assertIn("Connection refused", result.stderr)

    def test_socket_from_the_environment_and_the_default(self):
        with tempfile.TemporaryDirectory() as d:
            sock = os.path.join(d, "env.sock")
            result = ctl("status", env={"WSGICTL_SOCKET": sock})
            self.assertEqual(result.returncode, 3)
            self.assertIn(sock, result.stderr)
            # -s wins over the environment.
            result = ctl("status", sock=os.path.join(d, "flag.sock"),
                         env={"WSGICTL_SOCKET": sock})
            self.assertIn("flag.sock", result.stderr)
            env = dict(os.environ, XDG_RUNTIME_DIR=d)
            env.pop("WSGICTL_SOCKET", None)
            result = subprocess.run([WSGICTL, "status"], capture_output=True, text=True,
                                    env=env, timeout=30)
            if os.geteuid() == 0:
                expected = "/run/wsgid.sock"
            else:
                expected = os.path.join(d, "wsgid.sock")
            if result.returncode == 3:  # unless a real daemon runs there
                self.assertIn(expected, result.stderr)

    def test_unreachable_tcp_exits_3(self):
        url = "http://127.0.0.1:%d" % harness.free_port()
        result = ctl("--url", url, "status")
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn(url, result.stderr)

    def test_wait_ready_gives_up_on_an_absent_daemon_with_3(self):
        with tempfile.TemporaryDirectory() as d:
            started = time.monotonic()
            result = ctl("wait-ready", "--timeout", "0.5", sock=os.path.join(d, "x.sock"))
            self.assertEqual(result.returncode, 3, result.stderr)
            self.assertLess(time.monotonic() - started, 5)

    def test_version_without_a_daemon(self):
        with tempfile.TemporaryDirectory() as d:
            result = ctl("version", sock=os.path.join(d, "x.sock"), check=0)
            self.assertEqual(result.stdout, "wsgictl 0.1.0\n")
            result = ctl("--version", sock=os.path.join(d, "x.sock"), check=0)
            self.assertEqual(result.stdout, "wsgictl 0.1.0\n")
            doc = json.loads(ctl("-o", "json", "version", sock=os.path.join(d, "x.sock"),
                                 check=0).stdout)
            self.assertEqual(doc, {"wsgictl": "0.1.0", "wsgid": None})


class ReadOnlyCommandsTest(unittest.TestCase):
    """Commands that leave the pool as it is, against one shared two-worker server."""

    @classmethod
    def setUpClass(cls):
        cls.server = ControlledServer("lifecycle_app:app", "--max-workers", "4", workers=2)
        cls.server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def test_status_table(self):
        out = self.server.ctl("status", check=0).stdout
        self.assertNotIn("{", out)
        self.assertNotIn('"', out)
        lines = dict(line.split(None, 1) for line in out.splitlines())
        self.assertEqual(lines["daemon"], "wsgid 0.1.0 (pid %d)" % self.server.proc.pid)
        self.assertEqual(lines["workers"],
                         "2/2 ready (0 starting, 0 draining), desired 2, max 4")
        self.assertEqual(lines["generation"], "1")
        self.assertEqual(lines["listeners"], "%s:%d" % (self.server.host, self.server.port))
        self.assertRegex(lines["uptime"], r"^\d+\.\ds$")
        self.assertEqual(lines["threads"], "1 per worker, 0 busy")
        self.assertEqual(lines["autoscale"], "off")
        # The values form one column.
        self.assertEqual(len({line.index(line.split(None, 1)[1]) for line in
                              out.splitlines()}), 1, out)

    def test_status_json(self):
        doc = json.loads(self.server.ctl("-o", "json", "status", check=0).stdout)
        self.assertEqual(doc["pid"], self.server.proc.pid)
        self.assertEqual(doc["pool"]["desired"], 2)
        self.assertEqual(doc["pool"]["ready"], 2)
        self.assertEqual(doc["max_workers"], 4)
        # -o may come after the command as well, and as --output=json.
        doc = json.loads(self.server.ctl("status", "--output=json", check=0).stdout)
        self.assertEqual(doc["pool"]["desired"], 2)

    def test_workers_table_is_aligned_with_one_row_per_worker(self):
        out = self.server.ctl("workers", check=0).stdout
        header, rows = table_rows(out)
        self.assertEqual(header.split(), ["ID", "PID", "GEN", "STATE", "BUSY", "CONNS", "REQUESTS",
                                          "RSS", "MB", "HEARTBEAT", "CURRENT"])
        self.assertEqual(len(rows), 2, out)
        pids = {w["pid"] for w in self.server.worker_list()}
        for row in rows:
            cells = row.split()
            self.assertIn(int(cells[1]), pids)
            self.assertEqual(cells[3], "ready")
            self.assertEqual(cells[4], "0/1")
            self.assertRegex(cells[5], r"^\d+$")  # open connections
            self.assertRegex(cells[7], r"^\d+\.\d$")  # RSS in MB
            self.assertRegex(cells[8], r"^\d+\.\ds$")  # heartbeat age
            self.assertEqual(cells[9], "-")  # idle
            # Left-aligned STATE starts under its heading; right-aligned numbers end
            # under theirs.
            self.assertEqual(row.index(" ready") + 1, header.index("STATE"))
            self.assertEqual(row.index(cells[8]) + len(cells[8]),
                             header.index("HEARTBEAT") + len("HEARTBEAT"))

    def test_workers_show_the_current_request(self):
        done = threading.Thread(target=get, args=(self.server.url + "/sleep?s=1.5",))
        done.start()
        try:
            def busy_row():
                out = self.server.ctl("workers", check=0).stdout
                return [r for r in table_rows(out)[1] if "GET /sleep" in r]
            self.assertTrue(wait_until(busy_row, 5))
            row = busy_row()[0]
            self.assertIn(" 1/1 ", row)
            self.assertRegex(row, r"GET /sleep \d+\.\ds$")
            doc = self.server.worker_list()
            current = [c for w in doc for c in w["current"]]
            self.assertEqual(current[0]["path"], "/sleep")
        finally:
            done.join()

    def test_workers_json(self):
        workers = self.server.worker_list()
        self.assertEqual(len(workers), 2)
        self.assertEqual({w["state"] for w in workers}, {"ready"})

    def test_version_names_both(self):
        out = self.server.ctl("version", check=0).stdout.splitlines()
        self.assertEqual(out[0], "wsgictl 0.1.0")
        self.assertEqual(out[1], "wsgid 0.1.0 (pid %d) at %s" % (self.server.proc.pid,
                                                                 self.server.sock))
        doc = json.loads(self.server.ctl("-o", "json", "version", check=0).stdout)
        self.assertEqual(doc["wsgid"]["pid"], self.server.proc.pid)

    def test_scale_beyond_max_is_refused_with_1(self):
        for args in (["scale", "5"], ["scale", "0"], ["scale", "+3"], ["scale", "-2"]):
            with self.subTest(args=args):
                result = self.server.ctl(*args)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn("422", result.stderr)
                self.assertIn("between 1 and 4", result.stderr)
                self.assertEqual(result.stdout, "")
        # With -o json the daemon's error object goes to stdout for scripts.
        result = self.server.ctl("-o", "json", "scale", "5")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(json.loads(result.stdout)["error"], "invalid_value")
        self.assertEqual(len(self.server.worker_list()), 2)

    def test_threads_beyond_the_limit_is_refused_with_1(self):
        result = self.server.ctl("threads", "0")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("422", result.stderr)

    def test_unknown_worker_is_404(self):
        for action in ("restart", "kill"):
            result = self.server.ctl("worker", action, "99")
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertIn("404", result.stderr)

    def test_autoscale_show(self):
        out = self.server.ctl("autoscale", check=0).stdout
        self.assertRegex(out.splitlines()[0], r"^autoscale\s+off")
        doc = json.loads(self.server.ctl("-o", "json", "autoscale", check=0).stdout)
        self.assertFalse(doc["enabled"])
        self.assertEqual(doc["max_workers"], 4)

    def test_wait_ready_on_a_ready_pool(self):
        result = self.server.ctl("wait-ready", "--timeout", "5", check=0)
        self.assertEqual(result.stdout, "ready: 2/2 workers\n")
        doc = json.loads(self.server.ctl("-o", "json", "wait-ready", check=0).stdout)
        self.assertEqual(doc["pool"]["ready"], 2)

    def test_top_once_renders_a_frame_with_one_line_per_worker(self):
        stop = threading.Event()

        def traffic():
            while not stop.is_set():
                get(self.server.url + "/")

        load = threading.Thread(target=traffic)
        load.start()
        try:
            result = self.server.ctl("top", "--once", "--interval", "0.5", check=0)
        finally:
            stop.set()
            load.join()
        out = result.stdout
        self.assertNotIn("\x1b", out)  # no terminal codes without a terminal
        self.assertIn("wsgid 0.1.0  pid %d" % self.server.proc.pid, out)
        self.assertIn("workers 2/2 ready", out)
        rate = float(out.split("req/s ")[1].split()[0])
        self.assertGreater(rate, 0)
        header, rows = table_rows(out)
        self.assertEqual(header.split()[:7], ["ID", "PID", "GEN", "STATE", "BUSY", "CONNS",
                                               "REQ/S"])
        self.assertEqual(len(rows), 2, out)
        self.assertEqual(sum(float(r.split()[6]) for r in rows) > 0, True)
        self.assertEqual(sorted(int(r.split()[0]) for r in rows),
                         sorted(w["id"] for w in self.server.worker_list()))

    def test_top_has_no_json(self):
        result = self.server.ctl("-o", "json", "top", "--once")
        self.assertEqual(result.returncode, 2)

    def test_top_without_a_terminal_is_a_usage_error(self):
        result = self.server.ctl("top")  # stdin is /dev/null, and no --once
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--once", result.stderr)

    def test_top_in_a_terminal(self):
        """The live view in a real terminal: a frame, then q quits; again, then Ctrl-C;
        the terminal is back in canonical mode afterwards."""
        harness.require_tool("tmux", "make setup installs it")
        tmux = ["tmux", "-L", "wsgictl-test-%d" % os.getpid()]
        top = "%s -s %s top --interval 0.3" % (WSGICTL, self.server.sock)
        # `read` holds the second run until the test has seen the first one's exit
        # status (the second's alternate screen would hide it).
        script = ("%s; echo EXIT1=$?; read go; %s; echo EXIT2=$?; stty -a | tr ' ' '\\n' | "
                  "grep -x -- '-*icanon'; sleep 60" % (top, top))
        subprocess.run(tmux + ["-f", "/dev/null", "new-session", "-d", "-s", "top", "-x",
                               "120", "-y", "30", script], check=True, timeout=10)
        try:
            def screen():
                return subprocess.run(tmux + ["capture-pane", "-p", "-t", "top"],
                                      capture_output=True, text=True, timeout=10).stdout

            def frame_shown():
                text = screen()
                return "req/s" in text and len([l for l in text.splitlines()
                                                if WORKER_ROW.match(l)]) == 2

            self.assertTrue(wait_until(frame_shown, 10, 0.1), screen())
            text = screen()
            self.assertIn("workers 2/2 ready", text)
            self.assertIn("q quits", text)
            header, rows = table_rows(text)
            self.assertEqual(len(rows) - 1, 2, text)  # the rows, then the hint line
            # Rates appear once a second sample arrived.
            self.assertTrue(wait_until(
                lambda: all(r.split()[6] != "-" for r in table_rows(screen())[1][:2]),
                5, 0.1), screen())

            subprocess.run(tmux + ["send-keys", "-t", "top", "q"], check=True, timeout=10)
            self.assertTrue(wait_until(lambda: "EXIT1=0" in screen(), 5, 0.1), screen())
            # The alternate screen is gone with the frame; the shell's screen is back.
            self.assertFalse(frame_shown(), screen())
            subprocess.run(tmux + ["send-keys", "-t", "top", "Enter"], check=True, timeout=10)
            self.assertTrue(wait_until(frame_shown, 10, 0.1), screen())
            subprocess.run(tmux + ["send-keys", "-t", "top", "C-c"], check=True, timeout=10)
            self.assertTrue(wait_until(lambda: "EXIT2=0" in screen(), 5, 0.1), screen())
            self.assertTrue(wait_until(lambda: "\nicanon" in "\n" + screen(), 5, 0.1),
                            screen())
            self.assertNotIn("-icanon", screen())
        finally:
            subprocess.run(tmux + ["kill-server"], capture_output=True, timeout=10)


class ChangingCommandsTest(unittest.TestCase):
    """Commands that change the pool: one server each."""

    def test_scale_to_3_then_wait_ready(self):
        with ControlledServer(workers=1) as server:
            result = server.ctl("scale", "3", check=0)
            self.assertEqual(result.stdout, "desired workers: 3\n")
            result = server.ctl("wait-ready", "--timeout", "20", check=0)
            self.assertEqual(result.stdout, "ready: 3/3 workers\n")
            workers = server.worker_list()
            self.assertEqual([w["state"] for w in workers], ["ready"] * 3)
            _, rows = table_rows(server.ctl("workers", check=0).stdout)
            self.assertEqual(len(rows), 3)
            # Relative changes, and their JSON.
            self.assertEqual(server.ctl("scale", "-2", check=0).stdout,
                             "desired workers: 1\n")
            doc = json.loads(server.ctl("-o", "json", "scale", "+1", check=0).stdout)
            self.assertEqual(doc, {"desired": 2})
            self.assertTrue(wait_until(
                lambda: [w["state"] for w in server.worker_list()] == ["ready"] * 2, 20, 0.1),
                server.worker_list())

    def test_autoscale_switch(self):
        # Its own server: switching the scaler on changes the pool.
        with ControlledServer("lifecycle_app:app", "--max-workers", "4", workers=1) as server:
            server.ctl("autoscale", "on", "--min", "1", "--max", "3", check=0)
            out = server.ctl("autoscale", check=0).stdout
            self.assertRegex(out, r"(?m)^autoscale\s+on$")
            self.assertRegex(out, r"(?m)^max workers\s+3$")
            self.assertRegex(out, r"(?m)^min workers\s+1$")
            server.ctl("autoscale", "off", check=0)
            self.assertRegex(server.ctl("autoscale", check=0).stdout, r"(?m)^autoscale\s+off$")
            # --max-workers itself is unchanged: scaling by hand may still reach 4.
            self.assertEqual(server.ctl("scale", "4").returncode, 0)

    def test_threads(self):
        # Raising the thread count at run time needs the room --max-threads gives.
        with ControlledServer("lifecycle_app:app", "--max-threads", "4", workers=1) as server:
            self.assertEqual(server.ctl("threads", "3", check=0).stdout,
                             "threads per worker: 3\n")
            self.assertTrue(wait_until(lambda: "3 per worker" in server.ctl(
                "status", check=0).stdout, 10, 0.1))
            doc = json.loads(server.ctl("-o", "json", "threads", "2", check=0).stdout)
            self.assertEqual(doc, {"threads": 2})

    def test_reload(self):
        with ControlledServer(workers=1) as server:
            old = {w["pid"] for w in server.worker_list()}
            self.assertEqual(server.ctl("reload", check=0).stdout,
                             "reload started: generation 2\n")
            self.assertTrue(wait_until(
                lambda: {w["pid"] for w in server.worker_list()
                         if w["state"] == "ready"}.isdisjoint(old) and
                json.loads(server.ctl("-o", "json", "status").stdout)["pool"]["live"] == 1,
                20, 0.1), server.worker_list())
            server.ctl("wait-ready", "--timeout", "10", check=0)
            self.assertIn("generation  2", server.ctl("status", check=0).stdout)

    def test_worker_restart_and_kill(self):
        with ControlledServer(workers=2) as server:
            for action in ("restart", "kill"):
                with self.subTest(action=action):
                    before = server.worker_list()
                    target = before[0]
                    result = server.ctl("worker", action, str(target["id"]), check=0)
                    self.assertEqual(result.stdout, "worker %d: %s requested\n" % (
                        target["id"], action))

                    # The replacement takes a new slot (and id); the old process goes.
                    def replaced():
                        now = server.worker_list()
                        return (target["pid"] not in [w["pid"] for w in now] and
                                [w["state"] for w in now] == ["ready"] * 2)
                    self.assertTrue(wait_until(replaced, 20, 0.1), server.worker_list())
                    # The other worker was left alone.
                    other = before[1]
                    self.assertIn(other["pid"], [w["pid"] for w in server.worker_list()])

    def test_stop_fast_and_graceful(self):
        with ControlledServer(workers=1) as server:
            self.assertEqual(server.ctl("stop", check=0).stdout, "stopping wsgid\n")
            self.assertEqual(server.proc.wait(15), 0)
        with ControlledServer(workers=1) as server:
            # A request in flight finishes during a graceful stop.
            answer = {}
            slow = threading.Thread(target=lambda: answer.update(
                r=get(server.url + "/sleep?s=1")))
            slow.start()
            self.assertTrue(wait_until(lambda: "GET /sleep" in server.ctl(
                "workers").stdout, 5))
            self.assertEqual(server.ctl("stop", "--graceful", check=0).stdout,
                             "stopping wsgid (graceful)\n")
            slow.join(10)
            self.assertEqual(answer.get("r"), (200, b"slept"))
            self.assertEqual(server.proc.wait(15), 0)
            self.assertEqual(ctl("status", sock=server.sock).returncode, 3)

    def test_wait_ready_times_out_with_124_while_the_app_imports(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "slow_import.py"), "w") as f:
                f.write(SLOW_IMPORT_APP)
            server = ControlledServer("slow_import:app", chdir=d, workers=1)
            try:
                server.start(expect_ready=False)
                self.assertTrue(wait_until(lambda: os.path.exists(server.sock), 10),
                                server.log())
                started = time.monotonic()
                result = server.ctl("wait-ready", "--timeout", "1")
                self.assertEqual(result.returncode, 124, result.stderr)
                self.assertLess(time.monotonic() - started, 5)
                self.assertIn("timed out after 1.0s", result.stderr)
                self.assertIn("0/1 ready (1 starting", result.stderr)
                self.assertEqual(result.stdout, "")
                # The pool as it is: one worker, still starting.
                _, rows = table_rows(server.ctl("workers", check=0).stdout)
                self.assertEqual([r.split()[3] for r in rows], ["starting"])
            finally:
                server.stop()
                server.dir.cleanup()

    def test_tcp_with_a_token(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "daemon.token"), "w") as f:
                f.write("s3cret-token\n")
            with open(os.path.join(d, "client.token"), "w") as f:
                f.write("  s3cret-token \n\n")  # surrounding whitespace is not the token
            with open(os.path.join(d, "wrong.token"), "w") as f:
                f.write("guess\n")
            port = harness.free_port()
            url = "http://127.0.0.1:%d" % port
            with ControlledServer("lifecycle_app:app", "--control-bind",
                                  "127.0.0.1:%d" % port, "--control-token-file",
                                  os.path.join(d, "daemon.token"), workers=1):
                result = ctl("--url", url, "--token-file", os.path.join(d, "client.token"),
                             "status", check=0)
                self.assertIn("1/1 ready", result.stdout)
                result = ctl("--url", url, "--token-file", os.path.join(d, "wrong.token"),
                             "status")
                self.assertEqual(result.returncode, 4, result.stderr)
                self.assertIn("unauthorised", result.stderr)
                self.assertIn("check the token", result.stderr)
                result = ctl("--url", url, "workers")
                self.assertEqual(result.returncode, 4, result.stderr)
                self.assertIn("--token-file", result.stderr)


if __name__ == "__main__":
    unittest.main()
