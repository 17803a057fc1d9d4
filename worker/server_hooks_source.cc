// The Python half of the server hooks: the stand-ins Gunicorn's hooks are
// called with (server, worker, req, resp, cfg, log), the loader of a
// gunicorn.conf.py's hook functions, the guarded call, and the master's hook
// helper loop. Run once per process as the module `_wsgid_hooks`
// (worker/server_hooks.cc); `log_line(level, text, exc)` is set by the C++ side
// and writes into wsgid's error log.
#include "worker/server_hooks_source.h"

namespace wsgid {

// clang-format off
const char kServerHooksSource[] = R"PY(
import importlib, importlib.util, json, os, signal, socket, sys, traceback

HOOKS = ("on_starting", "on_reload", "when_ready", "pre_fork", "post_fork",
         "post_worker_init", "worker_int", "worker_abort", "pre_exec",
         "pre_request", "post_request", "child_exit", "worker_exit",
         "nworkers_changed", "on_exit")
log_line = None  # replaced by wsgid: log_line(level 0..4, text, is_exception)
reopen_logs = None  # replaced by wsgid: reopens the error log (USR1, rotation)
log_counts = None  # replaced by wsgid: (warning, error, critical, exception) so far


class Log:
    """server.log / worker.log: Gunicorn's logger methods, into wsgid's error log."""
    _NUMERIC = ((40, 3), (30, 2), (20, 1), (0, 0))

    def _emit(self, level, msg, args, exc=False):
        text = str(msg)
        if args:
            try:
                text = text % args
            except Exception:
                text = "%s %r" % (text, args)
        if exc:
            text += "\n" + traceback.format_exc().rstrip()
        log_line(level, text, exc)

    def debug(self, msg, *args, **kwargs): self._emit(0, msg, args)
    def info(self, msg, *args, **kwargs): self._emit(1, msg, args)
    def warning(self, msg, *args, **kwargs): self._emit(2, msg, args)
    warn = warning
    def error(self, msg, *args, **kwargs): self._emit(3, msg, args)
    def critical(self, msg, *args, **kwargs): self._emit(4, msg, args)
    def exception(self, msg, *args, **kwargs): self._emit(3, msg, args, exc=True)

    def log(self, lvl, msg, *args, **kwargs):
        if isinstance(lvl, str):
            lvl = {"debug": 10, "info": 20, "warning": 30, "error": 40}.get(lvl.lower(), 50)
        if lvl >= 50:
            return self._emit(4, msg, args)
        self._emit(next(l for n, l in self._NUMERIC if lvl >= n), msg, args)

    def reopen_files(self): pass
    def close_on_exec(self): pass


class Config:
    """cfg: every setting by its Gunicorn name (and wsgid's own), read-only."""
    def __init__(self, settings):
        self.__dict__.update(settings)

    def __repr__(self):
        return "<wsgid Config %r>" % sorted(self.__dict__)


class Worker:
    def __init__(self, pid, ppid, age, cfg, log):
        self.pid, self.ppid, self.age, self.cfg, self.log = pid, ppid, age, cfg, log
        self.alive, self.booted, self.aborted, self.wsgi = True, False, False, None
        self.exitcode = None  # child_exit: the exit code, or -signal

    def __repr__(self):
        return "<Worker %s>" % self.pid


class Server:
    def __init__(self, pid, cfg, log, num_workers):
        self.pid, self.cfg, self.log, self.num_workers = pid, cfg, log, num_workers

    def __repr__(self):
        return "<Server %s>" % self.pid


class Request:
    __slots__ = ("method", "uri", "path", "query", "version", "headers", "scheme")

    def __init__(self, method, uri, path, query, minor, headers):
        self.method, self.uri, self.path, self.query = method, uri, path, query
        self.version = (1, minor)
        self.headers = headers
        self.scheme = "http"


class Response:
    __slots__ = ("status", "status_code", "headers", "sent")

    def __init__(self, status, headers, sent):
        self.status = status
        self.status_code = int(status.split(None, 1)[0]) if status else None
        self.headers, self.sent = headers, sent


def load(location, pythonpath):
    """The hook functions of a gunicorn.conf.py path or python:MODULE."""
    if location.startswith("python:"):
        added = [p for p in pythonpath + [os.getcwd()] if p not in sys.path]
        sys.path[:0] = added
        try:
            scope = vars(importlib.import_module(location[len("python:"):]))
        finally:
            for p in added:
                sys.path.remove(p)
    else:
        spec = importlib.util.spec_from_file_location("__config__", location)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        scope = vars(module)
    return {name: scope[name] for name in HOOKS if callable(scope.get(name))}


def call(hooks, name, *args):
    """Runs one hook; a raise is logged with its traceback. False if it raised."""
    fn = hooks.get(name)
    if fn is None:
        return True
    try:
        fn(*args)
        return True
    except (Exception, SystemExit):
        log_line(3, "Exception in %s hook:\n%s" % (name, traceback.format_exc().rstrip()),
                 True)
        return False


def run_helper(fd, location, pythonpath, settings, master_pid):
    """The master's hook helper: one JSON event a line on socket `fd`, each
    answered "done" once its hook returned."""
    sys.path[:0] = pythonpath + [os.getcwd()]  # as the workers import the app
    hooks = load(location, [])
    cfg, log = Config(settings), Log()
    server = Server(master_pid, cfg, log, settings.get("workers"))
    sock = socket.socket(fileno=fd)
    signal.signal(signal.SIGUSR1, lambda *_: reopen_logs())  # the master's USR1
    for line in sock.makefile("rb"):
        if not line.endswith(b"\n"):
            break  # the master went away mid-line
        event = json.loads(line)
        server.num_workers = event.get("num_workers", server.num_workers)
        args = [server]
        if "worker" in event:
            w = event["worker"]
            worker = Worker(w["pid"], master_pid, w["age"], cfg, log)
            worker.exitcode = w.get("exitcode")
            args.append(worker)
        if event["hook"] == "nworkers_changed":
            args += [event["new_value"], event["old_value"]]
        call(hooks, event["hook"], *args)
        # with this process's error-log record counts, for the master's statsd
        sock.sendall(b"done %d %d %d %d\n" % log_counts())
)PY";
// clang-format on

}  // namespace wsgid
