"""deploy/systemd: the units pass `systemd-analyze verify`, say what wsgid needs
(Type=notify, ExecReload=kill -HUP, KillMode=mixed, a stop timeout above
--graceful-timeout), and socket activation serves: systemd-socket-activate binds the
port, starts wsgid on the first connection with the socket as LISTEN_FDS, and that
connection is answered (on IPv4 and IPv6 through one dual-stack socket, like the socket
unit's).

The sandbox: `systemd-analyze security --offline=true` scores the unit 3.0 or less, the
paths wsgid writes are the writable ones, and every system call wsgid and its workers make
(strace -f of a run with requests, a reload and a stop) is allowed by the unit's
SystemCallFilter= (systemd is not PID 1 here, so the sandbox cannot be applied for real).

The notify protocol, against a NOTIFY_SOCKET listener of the test's own: READY=1 with
MAINPID, WATCHDOG=1 at half of WATCHDOG_USEC and only while the supervisor loop turns
(SIGSTOP stops the pings), STATUS= with the ready workers and the request rate,
STOPPING=1, and USR2 refused."""
import os
import sys
import re
import shlex
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

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


class DualStackActivationTest(unittest.TestCase):
    """The socket unit's ListenStream=[::]:PORT (BindIPv6Only=both): one inherited IPv6
    socket serves IPv6 and IPv4 clients."""

    def test_one_socket_serves_both_families(self):
        sock = read_unit("wsgid.socket")["Socket"]
        self.assertTrue(sock["ListenStream"][0].startswith("[::]:"), sock)
        self.assertEqual(sock["BindIPv6Only"], ["both"])
        activate = harness.require_tool("systemd-socket-activate", "Debian: systemd")
        port = harness.free_port()
        with tempfile.NamedTemporaryFile(prefix="wsgid-activate6-", suffix=".log") as log:
            proc = subprocess.Popen(
                [activate, "-l", "[::]:%d" % port, harness.WSGID, "--ops-bind", "off",
                 "--control-socket", "off", "-w", "1", "--chdir", harness.EXAMPLES,
                 "hello:app"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            def output():
                with open(log.name) as f:
                    return f.read()
            try:
                # systemd-socket-activate holds the port before the first connection.
                self.assertTrue(harness.wait_until(lambda: "Listening on" in output(), 10),
                                output())
                for host, family in (("::1", socket.AF_INET6), ("127.0.0.1", socket.AF_INET)):
                    with socket.socket(family, socket.SOCK_STREAM) as s:
                        s.settimeout(30)
                        s.connect((host, port))
                        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        status, _, body = harness.read_response(s)
                    text = output()
                    self.assertEqual((status, body), (200, b"Hello, World!"), text)
                self.assertIn("Listening at: [::]:%d" % port, text)
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(30), 0)
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def unit_copies(tmp, mutate=None):
    """Copies of both units in tmp, ExecStart naming the built binary; the service's path."""
    for name in ("wsgid.service", "wsgid.socket"):
        with open(os.path.join(UNITS, name)) as f:
            text = f.read().replace(INSTALLED_PATH, harness.WSGID)
        if mutate:
            text = mutate(name, text)
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    return os.path.join(tmp, "wsgid.service")


def exposure(mutate=None):
    """systemd-analyze security --offline=true of the service: (score, output)."""
    analyze = harness.require_tool("systemd-analyze", "Debian: systemd")
    with tempfile.TemporaryDirectory(prefix="wsgid-units-") as tmp:
        service = unit_copies(tmp, mutate)
        proc = subprocess.run([analyze, "security", "--offline=true", "--no-pager", service],
                              capture_output=True, text=True, timeout=60, cwd=tmp)
    m = re.search(r"Overall exposure level for wsgid.service: ([0-9.]+)", proc.stdout)
    if m is None:
        raise AssertionError("no exposure level:\n%s%s" % (proc.stdout, proc.stderr))
    return float(m.group(1)), proc.stdout


def syscall_set(spec):
    """The system call names of `systemd-analyze syscall-filter` for the groups and
    names in `spec` (groups expand recursively)."""
    analyze = harness.require_tool("systemd-analyze", "Debian: systemd")
    names = set()
    for item in spec.split():
        if not item.startswith("@"):
            names.add(item)
            continue
        out = subprocess.run([analyze, "syscall-filter", "--no-pager", item],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        for line in out.splitlines()[1:]:
            word = line.strip()
            if word and not word.startswith("#"):
                names |= syscall_set(word) if word.startswith("@") else {word}
    return names


class HardeningTest(unittest.TestCase):
    def test_exposure_is_at_most_3(self):
        score, out = exposure()
        self.assertLessEqual(score, 3.0, out)

    def test_exposure_check_has_teeth(self):
        """The unit without its sandbox scores far above 3.0 (the parse reads the score)."""
        sandbox = re.compile(r"^(Protect|Private|Restrict|SystemCall|Capability|NoNew|Lock"
                             r"|RemoveIPC|UMask|DevicePolicy|KeyringMode|ReadWritePaths"
                             r"|AmbientCapabilities)\w*=.*$", re.M)
        score, out = exposure(lambda name, text: sandbox.sub("", text))
        self.assertGreater(score, 5.0, out)

    def test_sandbox_keys(self):
        svc = read_unit("wsgid.service")["Service"]
        self.assertEqual(svc["ProtectSystem"], ["strict"])
        self.assertEqual(svc["CapabilityBoundingSet"], [""])  # binds nothing below 1024
        self.assertEqual(svc["NoNewPrivileges"], ["yes"])
        self.assertEqual(svc["PrivateDevices"], ["yes"])
        self.assertIn("@system-service", svc["SystemCallFilter"])
        self.assertNotIn("MemoryDenyWriteExecute", svc)  # breaks cffi/ctypes callbacks
        self.assertEqual(sorted(svc["RestrictAddressFamilies"][0].split()),
                         ["AF_INET", "AF_INET6", "AF_UNIX"])
        # What ExecStart writes is writable under ProtectSystem=strict.
        writable = svc["ReadWritePaths"][0].split()
        self.assertIn("/run/" + svc["RuntimeDirectory"][0], writable)
        self.assertIn("/var/log/" + svc["LogsDirectory"][0], writable)
        args = exec_start_args()
        for flag in ("--pid", "--control-socket", "--error-logfile", "--access-logfile"):
            if flag in args:
                path = args[args.index(flag) + 1]
                self.assertTrue(any(path.startswith(w + "/") for w in writable),
                                "%s %s is read-only under ProtectSystem=strict" % (flag, path))
        # The watchdog: wsgid pings at half of it, well above the loop's 100 ms turn.
        self.assertGreaterEqual(float(svc["WatchdogSec"][0]), 10)

    def allowed_system_calls(self):
        svc = read_unit("wsgid.service")["Service"]
        allowed, denied = set(), set()
        for spec in svc["SystemCallFilter"]:
            if spec.startswith("~"):
                denied |= syscall_set(spec[1:])
            else:
                allowed |= syscall_set(spec)
        allowed -= denied
        self.assertIn("epoll_wait", allowed)
        self.assertNotIn("setuid", allowed)
        return allowed

    def traced_system_calls(self, server, tmp, exercise):
        """Runs `server` under strace -f, calls exercise(server, master_pid), reloads with
        SIGHUP, stops with SIGTERM: the system calls every process made."""
        if harness.SANITIZED:
            self.skipTest("the ASan runtime makes system calls of its own")
        strace = harness.require_tool("strace", "Debian: strace")
        trace = os.path.join(tmp, "trace")
        real = server.command
        server.command = lambda: [strace, "-f", "-qq", "-o", trace] + real()
        with server:
            # server.proc is strace; wsgid is its child: signal that one.
            masters = sorted(harness.worker_pids(server.proc.pid))
            self.assertEqual(len(masters), 1, server.log())
            exercise(server, masters[0])
            os.kill(masters[0], signal.SIGHUP)
            log = harness.wait_for_log(server, lambda log: "generation 2" in log, 30)
            self.assertIn("generation 2", log)
            exercise(server, masters[0])
            os.kill(masters[0], signal.SIGTERM)
            self.assertEqual(server.proc.wait(30), 0, server.log())
        with open(trace) as f:
            used = set(re.findall(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", f.read(), re.M))
        self.assertIn("epoll_wait", used)
        self.assertGreater(len(used), 30)
        return used

    def test_every_system_call_is_allowed(self):
        allowed = self.allowed_system_calls()

        def exercise(server, master):
            for _ in range(5):
                self.assertEqual(harness.get(server.url + "/")[0], 200)

        with tempfile.TemporaryDirectory(prefix="wsgid-strace-") as tmp:
            used = self.traced_system_calls(
                harness.Server("hello:app", workers=2, threads=2), tmp, exercise)
        # systemd installs the filter before it execs ExecStart: wsgid's execve counts too.
        self.assertEqual(sorted(used - allowed), [],
                         "system calls the unit's SystemCallFilter= denies")

    def test_preload_tls_hooks_and_control_calls_are_allowed(self):
        """The paths a plain run does not take: the preload zygote's forks, TLS
        handshakes, the hook helper, JSON logs reopened on USR1, a worker recycled
        by max_requests, the control socket and the ops port."""
        allowed = self.allowed_system_calls()
        openssl = harness.require_tool("openssl")
        with tempfile.TemporaryDirectory(prefix="wsgid-strace-") as tmp:
            cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "2", "-subj", "/CN=localhost"],
                           check=True, capture_output=True, timeout=30)
            hooks = os.path.join(tmp, "hooks.py")
            with open(hooks, "w") as f:
                f.write("def post_fork(server, worker):\n    print('forked', worker.pid)\n")
            sock, ops_port = os.path.join(tmp, "ctl.sock"), harness.free_port()
            server = harness.TlsServer(
                "hello:app", "--preload", "--certfile", cert, "--keyfile", key, "-c", hooks,
                "--log-format", "json", "--access-logfile", os.path.join(tmp, "access.log"),
                "--max-requests", "3", "--control-socket", sock,
                "--ops-bind", "127.0.0.1:%d" % ops_port, workers=2, threads=2)
            context = ssl.create_default_context(cafile=cert)
            context.check_hostname = False

            def exercise(server, master):
                for _ in range(8):  # past max_requests: a worker is forked again
                    with urllib.request.urlopen("https://127.0.0.1:%d/" % server.port,
                                                context=context, timeout=10) as r:
                        self.assertEqual(r.status, 200)
                self.assertEqual(harness.get("http://127.0.0.1:%d/metrics" % ops_port)[0],
                                 200)
                self.assertEqual(harness.wsgictl("status", sock=sock).returncode, 0)
                os.kill(master, signal.SIGUSR1)

            used = self.traced_system_calls(server, tmp, exercise)
        self.assertIn("accept4", used)
        self.assertEqual(sorted(used - allowed), [],
                         "system calls the unit's SystemCallFilter= denies")


class NotifyListener:
    """A NOTIFY_SOCKET of the test's own: a datagram socket that records every message
    with the time it came."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []  # (monotonic time, text)
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while self.running:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            with self.lock:
                self.messages.append((time.monotonic(), data.decode()))

    def lines(self, prefix):
        """(time, line) of every line starting with prefix, in order."""
        with self.lock:
            return [(t, line) for t, text in self.messages for line in text.split("\n")
                    if line.startswith(prefix)]

    def close(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()


class NotifyProtocolTest(unittest.TestCase):
    WATCHDOG_USEC = 2_000_000  # pings every 1 s; one per loop turn would be ~10 a second

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="wsgid-notify-")
        self.listener = NotifyListener(self.tmp.name)
        self.server = harness.Server("hello:app", workers=2, env={
            "NOTIFY_SOCKET": self.listener.path,
            "WATCHDOG_USEC": str(self.WATCHDOG_USEC)})

    def tearDown(self):
        if self.server.proc is not None and self.server.proc.poll() is None:
            os.kill(self.server.proc.pid, signal.SIGCONT)
        self.server.stop()
        self.listener.close()
        self.tmp.cleanup()

    def pings_between(self, start, end):
        return [t for t, _ in self.listener.lines("WATCHDOG=1") if start <= t < end]

    def test_ready_watchdog_status_stopping(self):
        self.server.start()
        pid = self.server.proc.pid
        self.assertTrue(harness.wait_until(lambda: self.listener.lines("READY=1"), 10))
        self.assertIn("MAINPID=%d" % pid,
                      [line for _, line in self.listener.lines("MAINPID=")])
        # Pings at half of WATCHDOG_USEC: about 3 in 3 s, never one per turn.
        start = time.monotonic()
        time.sleep(3.2)
        pings = self.pings_between(start, time.monotonic())
        self.assertGreaterEqual(len(pings), 2, self.listener.messages)
        self.assertLessEqual(len(pings), 6, self.listener.messages)
        # A master whose loop stops (SIGSTOP) stops pinging: systemd would kill it.
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.3)
        stopped = time.monotonic()
        time.sleep(2.5)
        self.assertEqual(self.pings_between(stopped, time.monotonic()), [])
        os.kill(pid, signal.SIGCONT)
        resumed = time.monotonic()
        self.assertTrue(harness.wait_until(
            lambda: self.pings_between(resumed, time.monotonic() + 1), 5))
        # STATUS=: ready workers, and the request rate of the last window (5 s): the 40
        # requests below show up as rate x 5 s summed over the lines after them.
        sent = time.monotonic()
        for _ in range(40):
            self.assertEqual(harness.get(self.server.url + "/")[0], 200)

        def counted():
            total = 0.0
            for t, line in self.listener.lines("STATUS="):
                m = re.fullmatch(r"STATUS=([0-2])/2 workers ready, ([0-9.]+) req/s", line)
                self.assertIsNotNone(m, line)
                if t > sent:
                    self.assertEqual(m.group(1), "2", line)
                    total += float(m.group(2)) * 5
            return total
        self.assertTrue(harness.wait_until(lambda: counted() >= 30, 15),
                        self.listener.messages)
        # A stop says STOPPING=1 first.
        self.assertEqual(self.server.stop(), 0, self.server.log())
        self.assertTrue(harness.wait_until(lambda: self.listener.lines("STOPPING=1"), 5),
                        self.listener.messages)

    def test_usr2_is_refused_under_systemd(self):
        self.server.start()
        self.assertTrue(harness.wait_until(lambda: self.listener.lines("READY=1"), 10))
        self.server.proc.send_signal(signal.SIGUSR2)
        log = harness.wait_for_log(self.server, lambda log: "USR2 ignored" in log, 10)
        self.assertIn("systemctl reload", log)
        self.assertNotIn("started a new master", log)
        self.assertEqual(harness.get(self.server.url + "/")[0], 200)

    def test_no_pings_for_another_watchdog_pid(self):
        """WATCHDOG_PID names the process systemd watches; an inherited one is not us."""
        self.server.env["WATCHDOG_PID"] = "1"
        self.server.start()
        self.assertTrue(harness.wait_until(lambda: self.listener.lines("READY=1"), 10))
        time.sleep(1.5)
        self.assertEqual(self.listener.lines("WATCHDOG=1"), [])
        self.assertTrue(self.listener.lines("STATUS="), self.listener.messages)


if __name__ == "__main__":
    unittest.main()
