"""Gunicorn's server hooks from a gunicorn.conf.py (issue 15): a file that defines every hook,
each appending what it received to a file as one JSON line. The worker-side hooks run in
the workers, the master-side ones in the master's hook helper process; each must fire at its
moment (start, ready, each fork, each request, a reload, a worker killed by timeout, a stop)
with the arguments Gunicorn passes, a raising hook is logged with its traceback while serving
goes on, post_fork raising fails the boot like an import error, and on_exit is awaited.
The helper's log (issue 18): its records and a hook's prints reach the new error log after
USR1, in text and JSON; in JSON every line of a run with hooks parses, with "process": "hooks".
"""
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import unittest
import urllib.request

from harness import Server, get, wait_for_log, wait_until

APP = '''
import time

def application(environ, start_response):
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(60)
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-App", "hooks")])
    return [b"hello"]
'''

# Every hook appends {"hook": name, "in": pid of the process it ran in, ...} to RECORDS.
CONF = '''
import json, os, time

RECORDS = %(records)r
FAIL_POST_FORK = %(fail_post_fork)r
timeout = 2
graceful_timeout = 5


def _record(hook, **fields):
    fields.update(hook=hook, **{"in": os.getpid()})
    with open(RECORDS, "a") as f:
        f.write(json.dumps(fields) + "\\n")


def _worker(worker):
    return {"pid": worker.pid, "age": worker.age}


def on_starting(server):
    _record("on_starting", server_pid=server.pid, workers=server.cfg.workers,
            num_workers=server.num_workers)


def when_ready(server):
    _record("when_ready", server_pid=server.pid, num_workers=server.num_workers)
    server.log.info("when_ready ran")
    raise RuntimeError("when_ready raises on purpose")


def on_reload(server):
    _record("on_reload", server_pid=server.pid)


def pre_fork(server, worker):
    _record("pre_fork", worker=_worker(worker))


def post_fork(server, worker):
    _record("post_fork", worker=_worker(worker), server_pid=server.pid, ppid=worker.ppid,
            timeout=worker.cfg.timeout, bind=worker.cfg.bind)
    if FAIL_POST_FORK:
        raise RuntimeError("post_fork raises on purpose")


def post_worker_init(worker):
    _record("post_worker_init", worker=_worker(worker), app=callable(worker.wsgi))


def pre_request(worker, req):
    _record("pre_request", worker=_worker(worker), method=req.method, path=req.path,
            query=req.query, uri=req.uri, version=list(req.version),
            headers=[list(h) for h in req.headers])
    if req.path == "/raise":
        raise ValueError("pre_request raises on purpose")


def post_request(worker, req, environ, resp):
    _record("post_request", worker=_worker(worker), path=req.path,
            path_info=environ["PATH_INFO"], status=resp.status,
            status_code=resp.status_code, headers=[list(h) for h in resp.headers])


def worker_int(worker):
    _record("worker_int", worker=_worker(worker))


def worker_abort(worker):
    _record("worker_abort", worker=_worker(worker))


def worker_exit(server, worker):
    _record("worker_exit", worker=_worker(worker), server_pid=server.pid)


def child_exit(server, worker):
    _record("child_exit", worker=_worker(worker), exitcode=worker.exitcode)


def nworkers_changed(server, new_value, old_value):
    _record("nworkers_changed", new=new_value, old=old_value)


def pre_exec(server):
    time.sleep(1)  # the new master starts only once it returned
    _record("pre_exec", server_pid=server.pid, num_workers=server.num_workers)


def on_exit(server):
    time.sleep(1)  # the master waits for it
    _record("on_exit", server_pid=server.pid)
'''


# What nworkers_changed writes for its new value: server.log, a print, a print to stderr.
HOOK_LINES = ("nworkers now %d", "hook print %d", "hook stderr %d")

# Hooks that log, print, raise and print a traceback, for --log-format json.
JSON_CONF = '''
import sys, traceback


def on_starting(server):
    print("on_starting print")
    print("on_starting stderr", file=sys.stderr)
    try:
        1 / 0
    except ZeroDivisionError:
        traceback.print_exc()


def when_ready(server):
    server.log.info("when_ready ran")
    raise RuntimeError("when_ready raises on purpose")


def pre_fork(server, worker):
    print("pre_fork print")


def post_fork(server, worker):
    print("post_fork print %d" % worker.pid)


def on_exit(server):
    print("on_exit print")
'''

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
# The fields every JSON record has (README "Logging").
RECORD_FIELDS = {"time": str, "level": str, "pid": int, "worker": int, "process": str,
                 "stream": str, "message": str}


def read_lines(test, path):
    """The lines of `path`; each must end with a newline."""
    with open(path) as f:
        lines = f.read().split("\n")
    test.assertEqual(lines[-1], "", "the last line of %s is cut" % path)
    return lines[:-1]


def check_record(test, r):
    """`r` has the documented fields, and a worker id only in a worker."""
    for field, kind in RECORD_FIELDS.items():
        test.assertIsInstance(r.get(field), kind, (field, r))
    test.assertRegex(r["time"], RFC3339)
    test.assertIn(r["level"], {"debug", "info", "warning", "error", "critical"})
    test.assertIn(r["process"], {"master", "worker", "hooks"}, r)
    test.assertEqual(r["worker"] >= 1, r["process"] == "worker", r)
    test.assertIn(r["stream"], {"log", "stdout", "stderr", "access"}, r)

class HooksTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wsgid-hooks-")
        self.records = os.path.join(self.dir, "records.jsonl")
        with open(os.path.join(self.dir, "hooks_app.py"), "w") as f:
            f.write(APP)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_conf(self, fail_post_fork=False):
        path = os.path.join(self.dir, "gunicorn.conf.py")
        with open(path, "w") as f:
            f.write(CONF % {"records": self.records, "fail_post_fork": fail_post_fork})
        return path

    def read(self, hook=None):
        try:
            with open(self.records) as f:
                rows = [json.loads(line) for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return []
        return [r for r in rows if hook is None or r["hook"] == hook]

    def wait_for(self, hook, count=1, timeout=15, **fields):
        def matching():
            return [r for r in self.read(hook)
                    if all(r.get(k) == v for k, v in fields.items())]
        wait_until(lambda: len(matching()) >= count, timeout)
        rows = matching()
        self.assertGreaterEqual(len(rows), count, "%s x%d %s never came; records:\n%s" % (
            hook, count, fields, "\n".join(map(json.dumps, self.read()))))
        return rows

    def test_every_hook_fires_at_its_moment(self):
        self.every_hook_fires_at_its_moment()

    def test_every_hook_fires_at_its_moment_with_preload(self):
        """Workers forked from the zygote: post_fork sees their own pid and age, and the
        master's child_exit fires for them as for spawned ones."""
        self.every_hook_fires_at_its_moment("--preload")

    def every_hook_fires_at_its_moment(self, *flags):
        conf = self.write_conf()
        server = Server("hooks_app:application", "-c", conf, "--abort-grace", "3", *flags,
                        workers=2, chdir=self.dir)
        with server:
            master = server.proc.pid
            self.check_start(master)
            self.check_requests(server)
            self.check_reload(server)
            self.check_scaling(server)
            self.check_timeout(server)
            live = {r["in"] for r in self.read("post_worker_init")} - {
                r["worker"]["pid"] for r in self.read("child_exit")}
            code = server.stop()
            log = server.log()
        self.assertEqual(code, 0, log)
        self.check_stop(master, live)
        # The master-side hook that raised is logged with its traceback; serving went on.
        self.assertIn("Exception in when_ready hook", log)
        self.assertIn("RuntimeError: when_ready raises on purpose", log)
        self.assertIn("when_ready ran", log)  # server.log writes to the error log

    def check_start(self, master):
        self.wait_for("when_ready")
        started = self.read("on_starting")
        self.assertEqual(len(started), 1)
        self.assertEqual(started[0]["server_pid"], master)
        self.assertEqual(started[0]["workers"], 2)
        helper = started[0]["in"]
        self.assertNotEqual(helper, master)  # hooks run in the helper, not the master
        first = [r for r in self.read() if r["in"] == helper][:2]
        # Gunicorn sets its worker count (from None) before on_starting.
        self.assertEqual([r["hook"] for r in first], ["nworkers_changed", "on_starting"])
        self.assertEqual((first[0]["new"], first[0]["old"]), (2, None))
        pre = self.read("pre_fork")
        self.assertEqual([r["worker"]["age"] for r in pre], [1, 2])
        self.assertEqual({r["worker"]["pid"] for r in pre}, {"[booting]"})
        self.assertTrue(all(r["in"] == helper for r in pre))
        forked = self.wait_for("post_worker_init", 2)
        post = self.read("post_fork")
        self.assertEqual(sorted(r["worker"]["age"] for r in post), [1, 2])
        for r in post:  # in the worker itself, with the master as server and parent
            self.assertEqual(r["worker"]["pid"], r["in"])
            self.assertEqual((r["server_pid"], r["ppid"]), (master, master))
            self.assertEqual(r["timeout"], 2)
            self.assertTrue(r["bind"][0].startswith("127.0.0.1:"))
        self.assertTrue(all(r["app"] for r in forked))
        self.helper, self.master = helper, master

    def check_requests(self, server):
        req = urllib.request.Request(server.url + "/hello?x=1", headers={"X-Test": "yes"})
        with urllib.request.urlopen(req, timeout=10) as response:
            self.assertEqual(response.read(), b"hello")
        pre = self.wait_for("pre_request", path="/hello")[0]
        self.assertEqual((pre["method"], pre["query"], pre["uri"], pre["version"]),
                         ("GET", "x=1", "/hello?x=1", [1, 1]))
        self.assertIn(["X-TEST", "yes"], pre["headers"])  # upper-cased, as Gunicorn does
        post = self.wait_for("post_request", path="/hello")[0]
        self.assertEqual((post["status"], post["status_code"], post["path_info"]),
                         ("200 OK", 200, "/hello"))
        self.assertIn(["X-App", "hooks"], post["headers"])
        self.assertEqual(post["in"], pre["in"])
        # A worker-side hook that raises: logged with its traceback, the request served.
        self.assertEqual(get(server.url + "/raise"), (200, b"hello"))
        log = wait_for_log(server, lambda t: "pre_request raises on purpose" in t)
        self.assertIn("Exception in pre_request hook", log)
        self.assertIn("Traceback", log)
        self.wait_for("post_request", path="/raise")

    def check_reload(self, server):
        old = {r["in"] for r in self.read("post_fork")}
        server.proc.send_signal(signal.SIGHUP)
        # A new helper, with the file read again, runs the hooks from on_reload on.
        self.helper = self.wait_for("on_reload")[0]["in"]
        self.wait_for("post_worker_init", 4)
        for pid in old:  # each old worker: worker_exit in itself, child_exit in the helper
            self.wait_for("worker_exit", **{"in": pid})
            exits = self.wait_for("child_exit", worker={"pid": pid, "age": self.age_of(pid)})
            self.assertEqual(exits[0]["exitcode"], 0)
            self.assertEqual(exits[0]["in"], self.helper)
        self.assertEqual(sorted(r["worker"]["age"] for r in self.read("pre_fork")),
                         [1, 2, 3, 4])

    def check_scaling(self, server):
        server.proc.send_signal(signal.SIGTTIN)
        self.wait_for("nworkers_changed", new=3, old=2)
        self.wait_for("pre_fork", worker={"pid": "[booting]", "age": 5})
        rows = self.read()
        changed = [i for i, r in enumerate(rows) if r["hook"] == "nworkers_changed"
                   and r["new"] == 3]
        forked = [i for i, r in enumerate(rows) if r["hook"] == "pre_fork"
                  and r["worker"]["age"] == 5]
        self.assertLess(changed[0], forked[0])  # the count first, as in Gunicorn
        self.wait_for("post_worker_init", 5)
        server.proc.send_signal(signal.SIGTTOU)
        self.wait_for("nworkers_changed", new=2, old=3)
        victim = [r["in"] for r in self.read("post_fork") if r["worker"]["age"] == 5][0]
        self.wait_for("worker_exit", **{"in": victim})  # the newest one is drained
        self.wait_for("child_exit", worker={"pid": victim, "age": 5})

    def age_of(self, pid):
        return [r["worker"]["age"] for r in self.read("post_fork") if r["in"] == pid][0]

    def check_timeout(self, server):
        before = len(self.read("post_worker_init"))
        failed = []

        def stuck():
            try:
                get(server.url + "/sleep", timeout=30)
            except Exception as e:  # the frozen worker is killed under it
                failed.append(e)
        client = threading.Thread(target=stuck)
        client.start()
        pid = self.wait_for("pre_request", path="/sleep")[0]["in"]
        # --timeout 2: SIGABRT (stacks dumped), worker_abort and worker_exit within
        # --abort-grace, then the master's child_exit and a replacement.
        self.wait_for("worker_abort", **{"in": pid})
        self.wait_for("worker_exit", **{"in": pid})
        exit_row = self.wait_for("child_exit", worker={"pid": pid, "age": self.age_of(pid)})
        self.assertEqual(exit_row[0]["exitcode"], 1)
        self.wait_for("post_worker_init", before + 1)
        client.join(30)
        self.assertEqual(len(failed), 1)
        log = server.log()
        self.assertIn("WORKER TIMEOUT", log)
        self.assertIn('line 6 in application', log)  # faulthandler's dump came first

    def check_stop(self, master, live):
        self.assertEqual(len(live), 2, self.read())
        for pid in live:
            self.assertTrue(self.read("worker_exit") and any(
                r["in"] == pid for r in self.read("worker_exit")), pid)
            self.assertTrue(any(r["worker"]["pid"] == pid for r in self.read("child_exit")),
                            pid)
        # on_exit sleeps a second before it writes: the master waited for it.
        exit_rows = self.read("on_exit")
        self.assertEqual(len(exit_rows), 1, self.read())
        self.assertEqual(exit_rows[0]["server_pid"], master)
        self.assertEqual(self.read()[-1]["hook"], "on_exit")

    def test_worker_int_on_sigint_and_sigquit(self):
        # Gunicorn: a worker sent INT or QUIT calls worker_int(worker), then leaves
        # (worker_exit in it, child_exit in the master's helper); the master's fast stop
        # (INT or QUIT) sends QUIT to every worker.
        conf = self.write_conf()
        server = Server("hooks_app:application", "-c", conf, workers=2, chdir=self.dir)
        with server:
            self.wait_for("post_worker_init", 2)
            first, second = sorted(r["in"] for r in self.read("post_worker_init"))
            for sig, pid in ((signal.SIGINT, first), (signal.SIGQUIT, second)):
                os.kill(pid, sig)
                age = self.age_of(pid)
                row = self.wait_for("worker_int", **{"in": pid})[0]
                self.assertEqual(row["worker"], {"pid": pid, "age": age})
                self.wait_for("worker_exit", **{"in": pid})
                self.wait_for("child_exit", worker={"pid": pid, "age": age})
                hooks = [r["hook"] for r in self.read() if r.get("in") == pid]
                self.assertLess(hooks.index("worker_int"), hooks.index("worker_exit"))
            self.wait_for("post_worker_init", 4)  # both replaced
            live = sorted({r["in"] for r in self.read("post_worker_init")} - {first, second})
            self.assertEqual(len(live), 2)
            self.assertEqual(get(server.url + "/")[0], 200)
            code = server.stop(signal.SIGQUIT)
            log = server.log()
        self.assertEqual(code, 0, log)
        for pid in live:
            self.assertEqual(len(self.read_where("worker_int", pid)), 1, self.read())
            self.assertEqual(len(self.read_where("worker_exit", pid)), 1, self.read())
        self.assertEqual(self.read()[-1]["hook"], "on_exit")

    def read_where(self, hook, pid):
        return [r for r in self.read(hook) if r["in"] == pid]

    def test_pre_exec_runs_before_the_new_master_starts(self):
        # USR2: pre_exec(server) in the old master's helper, awaited (it sleeps a second
        # before it records) before the new master is started: every record of the new
        # master comes after it.
        conf = self.write_conf()
        pidfile = os.path.join(self.dir, "wsgid.pid")
        server = Server("hooks_app:application", "-c", conf, "--pid", pidfile, workers=1,
                        chdir=self.dir)
        new_master = None
        with server:
            old = server.proc.pid
            helper = self.wait_for("when_ready")[0]["in"]
            server.proc.send_signal(signal.SIGUSR2)
            try:
                self.assertTrue(wait_until(lambda: os.path.exists(pidfile + ".2"), 20),
                                server.log())
                self.assertTrue(wait_until(lambda: open(pidfile + ".2").read().strip(), 5))
                with open(pidfile + ".2") as f:
                    new_master = int(f.read())
                row = self.wait_for("pre_exec")[0]
                self.assertEqual((row["in"], row["server_pid"], row["num_workers"]),
                                 (helper, old, 1))
                new_helper = self.wait_for("on_starting", server_pid=new_master)[0]["in"]
                rows = self.read()
                at = rows.index(row)
                self.assertFalse([r for r in rows[:at] if r.get("server_pid") == new_master
                                  or r["in"] in (new_master, new_helper)], rows)
                self.assertEqual(len(self.read("pre_exec")), 1)
            finally:
                if new_master is not None:
                    os.kill(new_master, signal.SIGTERM)
                    wait_until(lambda: not os.path.exists("/proc/%d" % new_master)
                               or open("/proc/%d/stat" % new_master).read().split()[2]
                               == "Z", 20)

    def test_post_fork_raising_fails_the_boot(self):
        conf = self.write_conf(fail_post_fork=True)
        server = Server("hooks_app:application", "-c", conf, workers=1, chdir=self.dir)
        server.start(expect_ready=False)
        try:
            server.proc.wait(30)
        finally:
            code = server.stop()
        log = server.log()
        self.assertEqual(code, 3, log)  # as an app that cannot be imported
        self.assertIn("RuntimeError: post_fork raises on purpose", log)
        self.assertEqual(self.read("post_worker_init"), [])
        self.assertEqual(len(self.read("on_exit")), 1)
        os.unlink(server._log.name)


    def hook_helper_pid(self, server):
        helper = [p for p in os.listdir("/proc") if p.isdigit() and
                  b"--worker-hook-helper" in open("/proc/%s/cmdline" % p, "rb").read()
                  and open("/proc/%s/stat" % p).read().split()[3] == str(server.proc.pid)]
        self.assertEqual(len(helper), 1)
        return int(helper[0])

    def check_usr1_reopens_the_hook_helpers_log(self, log_format):
        # The helper logs through server.log into the error log, and a hook's prints on
        # stdout and stderr go there too; after logrotate's rename and USR1 all of them go
        # to the new file within a second, and the helper is the same process.
        log = os.path.join(self.dir, "error.log")
        with open(os.path.join(self.dir, "gunicorn.conf.py"), "w") as f:
            f.write("import sys\n"
                    "def nworkers_changed(server, new_value, old_value):\n"
                    "    server.log.info('nworkers now %s', new_value)\n"
                    "    print('hook print %s' % new_value)\n"
                    "    print('hook stderr %s' % new_value, file=sys.stderr)\n")
        server = Server("hooks_app:application", "-c",
                        os.path.join(self.dir, "gunicorn.conf.py"), "--error-logfile",
                        log, "--log-format", log_format, workers=1, chdir=self.dir)
        server.start(expect_ready=False)

        def text(path):
            return open(path).read() if os.path.exists(path) else ""

        def has_all(path, n):
            return all(m % n in text(path) for m in HOOK_LINES)
        try:
            self.assertTrue(wait_until(lambda: has_all(log, 1), 20),
                            server.log() + text(log))
            helper = self.hook_helper_pid(server)
            os.rename(log, log + ".1")
            os.kill(server.proc.pid, signal.SIGUSR1)
            time.sleep(1)
            os.kill(server.proc.pid, signal.SIGTTIN)  # nworkers_changed(2, 1)
            self.assertTrue(wait_until(lambda: has_all(log, 2), 20),
                            text(log) + "\nrotated:\n" + text(log + ".1"))
            for line in HOOK_LINES:
                self.assertNotIn(line % 2, text(log + ".1"))
            self.assertTrue(os.path.exists("/proc/%d" % helper))  # not restarted
        finally:
            server.stop()
        if log_format == "text":
            lines = text(log).splitlines()
            self.assertIn("hook print 2", lines)  # the print itself, as Gunicorn's
            self.assertIn("hook stderr 2", lines)
            return
        records = []
        for path in (log + ".1", log):
            records += [json.loads(line) for line in read_lines(self, path)]
        for r in records:
            check_record(self, r)
        by_message = {r["message"]: r for r in records}
        for n in (1, 2):
            for message, stream, level in (("hook print %d", "stdout", "info"),
                                           ("hook stderr %d", "stderr", "error"),
                                           ("nworkers now %d", "log", "info")):
                r = by_message[message % n]
                self.assertEqual((r["stream"], r["level"], r["process"], r["pid"],
                                  r["worker"]), (stream, level, "hooks", helper, 0), r)

    def test_usr1_reopens_the_hook_helpers_log(self):
        self.check_usr1_reopens_the_hook_helpers_log("text")

    def test_usr1_reopens_the_hook_helpers_log_json(self):
        self.check_usr1_reopens_the_hook_helpers_log("json")

    def test_json_log_of_a_run_with_hooks_parses(self):
        # --log-format json: the hook helper's own records, a hook's prints, a raising
        # hook's traceback and a traceback a hook prints are records like the workers'
        # (one each, tracebacks whole), so every line of both logs parses.
        error, access = os.path.join(self.dir, "error.log"), os.path.join(self.dir, "a.log")
        conf = os.path.join(self.dir, "gunicorn.conf.py")
        with open(conf, "w") as f:
            f.write(JSON_CONF)
        server = Server("hooks_app:application", "-c", conf, "--error-logfile", error,
                        "--access-logfile", access, "--log-format", "json", workers=2,
                        chdir=self.dir)
        server.start(expect_ready=False)
        try:
            self.assertTrue(wait_until(lambda: os.path.exists(error) and
                                       open(error).read().count("post_fork print") >= 2,
                                       20), server.log())
            self.assertTrue(wait_until(lambda: "when_ready raises" in open(error).read(), 20))
            helper = self.hook_helper_pid(server)
            self.assertEqual(get(server.url + "/")[0], 200)
        finally:
            code = server.stop()
        self.assertEqual(code, 0, server.log())
        # The master waited for on_exit; its print may reach the file just after.
        self.assertTrue(wait_until(lambda: "on_exit print" in open(error).read(), 5))
        records = [json.loads(line) for line in read_lines(self, error)]
        accesses = [json.loads(line) for line in read_lines(self, access)]
        self.assertTrue(accesses)
        for r in records + accesses:
            check_record(self, r)
        self.assertEqual({(a["stream"], a["process"]) for a in accesses},
                         {("access", "worker")})
        hooks = [r for r in records if r["process"] == "hooks"]
        self.assertEqual({r["pid"] for r in hooks}, {helper})

        def one(stream, predicate):
            found = [r for r in hooks if r["stream"] == stream and predicate(r["message"])]
            self.assertEqual(len(found), 1, (stream, hooks))
            return found[0]
        self.assertEqual(one("stdout", lambda m: m == "on_starting print")["level"], "info")
        self.assertEqual(one("stderr", lambda m: m == "on_starting stderr")["level"],
                         "error")
        one("stdout", lambda m: m == "on_exit print")
        one("log", lambda m: m == "when_ready ran")
        raised = one("log", lambda m: "when_ready raises on purpose" in m)
        self.assertEqual(raised["level"], "error")
        self.assertIn("Exception in when_ready hook:\nTraceback (most recent call last):",
                      raised["message"])
        self.assertTrue(raised["message"].endswith(
            "RuntimeError: when_ready raises on purpose"), raised)
        self.assertGreaterEqual(len([r for r in hooks if r["stream"] == "stdout" and
                                     r["message"] == "pre_fork print"]), 2, hooks)
        # The traceback on_starting prints: one stderr record, whole.
        printed = one("stderr", lambda m: m.startswith("Traceback (most recent call last):"))
        self.assertEqual(printed["level"], "error")
        self.assertIn("1 / 0", printed["message"])
        self.assertTrue(printed["message"].endswith("ZeroDivisionError: division by zero"),
                        printed)
        # post_fork runs in the workers: their records.
        in_workers = [r for r in records if r["message"].startswith("post_fork print")]
        self.assertGreaterEqual(len(in_workers), 2)
        for r in in_workers:
            self.assertEqual((r["stream"], r["process"]), ("stdout", "worker"))
            self.assertGreaterEqual(r["worker"], 1)

if __name__ == "__main__":
    unittest.main()
