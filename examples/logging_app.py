"""An app for the logging tests (tests/integration/test_logging.py): it prints, fails
and freezes on request.

  /n?i=N        prints "print N" on stdout and answers N; X-Request-ID: req-N
  /err?i=N      prints "stderr N" on stderr and answers N
  /raise        raises: wsgid logs the traceback and answers 500
  /thread       an exception in a thread of the app: Python prints its traceback on stderr
  /sleep?s=S    sleeps S seconds (with --timeout below S: a frozen worker, its stacks dumped)
  /warn         logging.warning() through the logging module (stderr)
"""
import logging
import os
import sys
import threading
import time
import urllib.parse


def _fail_in_thread():
    raise RuntimeError("thread failed on purpose")


def app(environ, start_response):
    path = environ["PATH_INFO"]
    query = urllib.parse.parse_qs(environ["QUERY_STRING"])
    i = query.get("i", ["0"])[0]
    headers = [("Content-Type", "text/plain")]
    if path == "/n":
        # One write() per line: print() writes the text and the newline apart, so lines
        # printed by two threads at once can interleave (in any server).
        sys.stdout.write("print %s\n" % i)
        sys.stdout.flush()
        headers.append(("X-Request-ID", "req-%s" % i))
    elif path == "/err":
        sys.stderr.write("stderr %s\n" % i)
        sys.stderr.flush()
    elif path == "/raise":
        raise ValueError("failed on purpose")
    elif path == "/thread":
        t = threading.Thread(target=_fail_in_thread)
        t.start()
        t.join()
    elif path == "/sleep":
        time.sleep(float(query.get("s", ["1"])[0]))
    elif path == "/warn":
        logging.warning("a warning from the app")
    body = ("%s %d" % (i, os.getpid())).encode()
    headers.append(("Content-Length", str(len(body))))
    start_response("200 OK", headers)
    return [body]
