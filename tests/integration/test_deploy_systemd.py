"""deploy/systemd: the units pass `systemd-analyze verify`, say what wsgid needs
(Type=notify, ExecReload=kill -HUP, KillMode=mixed, a stop timeout above
--graceful-timeout), and socket activation serves: systemd-socket-activate binds the
port, starts wsgid on the first connection with the socket as LISTEN_FDS, and that
connection is answered."""
import os
import sys
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

UNITS = os.path.join(harness.REPO, "deploy", "systemd")
INSTALLED_PATH = "/usr/local/bin/wsgid"


def read_unit(name):
    """The unit as {section: {key: [values]}} (systemd allows repeated keys)."""
    sections = {}
    current = None
    with open(os.path.join(UNITS, name)) as f:
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def exec_start_args():
    service = read_unit("wsgid.service")
    return shlex.split(service["Service"]["ExecStart"][0])


class UnitContentTest(unittest.TestCase):
    def test_service_matches_what_wsgid_does(self):
        svc = read_unit("wsgid.service")["Service"]
        self.assertEqual(svc["Type"], ["notify"])  # wsgid sends READY=1 with NOTIFY_SOCKET
        self.assertEqual(svc["NotifyAccess"], ["main"])
        self.assertEqual(svc["KillMode"], ["mixed"])
        self.assertEqual(svc["ExecReload"], ["/bin/kill -HUP $MAINPID"])
        args = exec_start_args()
        self.assertEqual(args[0], INSTALLED_PATH)
        graceful = float(args[args.index("--graceful-timeout") + 1])
        stop = float(svc["TimeoutStopSec"][0])
        self.assertGreater(stop, graceful, "TimeoutStopSec must leave room for a graceful stop")
        # The control socket lives in the RuntimeDirectory the unit creates.
        control = args[args.index("--control-socket") + 1]
        self.assertEqual(os.path.dirname(control), "/run/" + svc["RuntimeDirectory"][0])
        # No --bind: the listeners come from wsgid.socket.
        self.assertNotIn("-b", args)
        self.assertNotIn("--bind", args)

    def test_exec_start_options_are_valid(self):
        """wsgid itself accepts ExecStart's options (--check-config parses them all)."""
        args = exec_start_args()
        # --check-config imports the app (issue 15): /srv/app is examples/ here
        args = [harness.EXAMPLES if a == "/srv/app" else a for a in args]
        proc = subprocess.run([harness.WSGID, "--check-config"]
                              + args[1:], capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_socket_feeds_the_service(self):
        sock = read_unit("wsgid.socket")
        self.assertEqual(sock["Socket"]["Service"], ["wsgid.service"])
        self.assertTrue(sock["Socket"]["ListenStream"])
        svc = read_unit("wsgid.service")["Unit"]
        self.assertIn("wsgid.socket", svc["Requires"][0].split())


class VerifyTest(unittest.TestCase):
    def verify(self, mutate=None):
        """systemd-analyze verify on copies whose ExecStart names the built binary (verify
        requires the executable to exist); returns (exit code, stderr)."""
        with tempfile.TemporaryDirectory(prefix="wsgid-units-") as tmp:
            for name in ("wsgid.service", "wsgid.socket"):
                with open(os.path.join(UNITS, name)) as f:
                    text = f.read()
                if name == "wsgid.service":
                    self.assertIn(INSTALLED_PATH, text)
                    text = text.replace(INSTALLED_PATH, harness.WSGID)
                if mutate:
                    text = mutate(name, text)
                with open(os.path.join(tmp, name), "w") as f:
                    f.write(text)
            proc = subprocess.run(
                [harness.require_tool("systemd-analyze", "Debian: systemd"), "verify", "--man=no", "--recursive-errors=no",
                 os.path.join(tmp, "wsgid.service"), os.path.join(tmp, "wsgid.socket")],
                capture_output=True, text=True, timeout=60, cwd=tmp)
            return proc.returncode, proc.stderr.replace(tmp, "<units>")

    def test_units_verify_cleanly(self):
        code, stderr = self.verify()
        self.assertEqual(code, 0, stderr)
        self.assertEqual(stderr.strip(), "", "systemd-analyze verify complained")

    def test_verify_catches_a_typo(self):
        """The check above has teeth: a misspelt key is only a warning (exit 0) for
        systemd, so the empty stderr is what catches it."""
        code, stderr = self.verify(
            lambda name, text: text.replace("KillMode=", "KilMode=")
            if name == "wsgid.service" else text)
        self.assertIn("Unknown key", stderr)
        self.assertIn("KilMode", stderr)


class SocketActivationTest(unittest.TestCase):
    def setUp(self):
        activate = harness.require_tool("systemd-socket-activate", "Debian: systemd")
        self.port = harness.free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="wsgid-activate-", suffix=".log")
        # The service's options, minus what only fits a real install.
        args = exec_start_args()[1:]
        drop = {"--chdir": 1, "--control-socket": 1, "--pid": 1, "--ops-bind": 1,
                "--workers": 1, "--threads": 1}
        kept = []
        i = 0
        while i < len(args) - 1:  # the last one is the app
            if args[i] in drop:
                i += 1 + drop[args[i]]
                continue
            kept.append(args[i])
            i += 1
        self.cmd = [activate, "-l", "127.0.0.1:%d" % self.port,
                    harness.WSGID] + kept + [
                    "--chdir", harness.EXAMPLES, "--ops-bind", "off",
                    "--control-socket", "off", "-w", "2", "hello:app"]
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def tearDown(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()

    def output(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def get(self, timeout=30):
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return harness.read_response(s)

    def wait_for_log(self, text, timeout=30):
        return harness.wait_until(lambda: text in self.output(), timeout)

    def test_socket_activation_serves(self):
        # systemd-socket-activate holds the port before wsgid exists ...
        self.assertTrue(self.wait_for_log("Listening on 127.0.0.1:%d" % self.port, 10),
                        self.output())
        self.assertNotIn("Listening at:", self.output())  # wsgid has not started
        # ... the first connection starts wsgid on it (exec, same pid), and is answered.
        status, _, body = self.get()
        self.assertEqual((status, body), (200, b"Hello, World!"), self.output())
        log = self.output()
        self.assertIn("Listening at: 127.0.0.1:%d" % self.port, log)
        # wsgid took the inherited socket and bound nothing itself (no default 8000).
        self.assertEqual(re.findall(r"Listening at: (\S+)", log),
                         ["127.0.0.1:%d" % self.port], log)
        self.assertTrue(self.wait_for_log(" serving ", 30), self.output())
        # systemctl reload (kill -HUP $MAINPID): a new generation on the same socket.
        self.proc.send_signal(signal.SIGHUP)
        self.assertTrue(self.wait_for_log("reload: starting generation 2", 30), self.output())
        for _ in range(5):
            self.assertEqual(self.get()[0], 200, self.output())
        # systemctl stop: SIGTERM to the main process (KillMode=mixed), a graceful exit.
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(30), 0, self.output())


if __name__ == "__main__":
    unittest.main()
