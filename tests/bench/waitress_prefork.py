#!/usr/bin/python3
"""Runs waitress in N processes sharing one listening socket (used by run.py).

waitress is a single-process server (one asyncore loop plus a pool of app threads); to give it
the same 2 processes as every other server in the benchmark, this launcher binds the socket
once, forks N children and has each serve it through waitress's documented `sockets=`
argument. The children accept from the shared socket like a pre-fork server's workers.

    waitress_prefork.py --bind 127.0.0.1:PORT --processes 2 [--chdir DIR] MODULE:APP [KEY=VALUE ...]

KEY=VALUE pairs are waitress adjustments (threads=4, connection_limit=12000,
asyncore_use_poll=true, channel_timeout=120 ...), passed to waitress.serve() as strings (waitress
converts them itself). SIGTERM or SIGINT to the launcher stops the children with SIGINT (their
graceful stop) and exits 0 once they are gone; a child that dies makes the launcher stop the
rest and exit 1.
"""
import argparse
import importlib
import os
import signal
import socket
import sys
import time


def load_app(spec):
    module, _, attr = spec.partition(":")
    obj = importlib.import_module(module)
    for part in (attr or "application").split("."):
        obj = getattr(obj, part)
    return obj


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bind", required=True)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--backlog", type=int, default=2048)
    p.add_argument("--chdir")
    p.add_argument("app")
    p.add_argument("adjustments", nargs="*")
    opts = p.parse_args()
    if opts.chdir:
        os.chdir(opts.chdir)
        sys.path.insert(0, opts.chdir)
    kw = {}
    for item in opts.adjustments:
        key, _, value = item.partition("=")
        kw[key] = value
    host, _, port = opts.bind.rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(opts.backlog)
    sock.setblocking(False)

    children = []
    for _ in range(opts.processes):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                import waitress
                app = load_app(opts.app)
                waitress.serve(app, sockets=[sock], **kw)
                code = 0
            except KeyboardInterrupt:
                code = 0
            except BaseException as e:  # report and exit without running the parent's code
                print("waitress child: %r" % (e,), file=sys.stderr, flush=True)
            finally:
                os._exit(code)
        children.append(pid)
    sock.close()

    stopping = []

    def stop(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    alive = set(children)
    signalled = False
    while alive:
        if stopping and not signalled:
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
            signalled = True
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.05)
            continue
        alive.discard(pid)
        if not signalled:  # a child died on its own: stop the others
            print("waitress child %d exited (status %d): stopping" % (pid, st),
                  file=sys.stderr, flush=True)
            status = 1
            stopping.append(0)
    return status


if __name__ == "__main__":
    sys.exit(main())
