"""An app that misbehaves on request, for the fault-injection and soak tests
(tests/integration/test_faults.py, test_soak.py).

  /            "ok"
  /pid?s=S     the serving worker's pid (tests attribute a failure to a worker by it),
               after sleeping S seconds (default 0)
  /sleep?s=S   sleeps S seconds (a slow request holding its thread)
  /leak?kb=N   keeps N KiB more in a module-level list, touched so it is resident;
               answers the worker's pid and what it holds so far
  /segv        reads address 0 through ctypes: the worker dies of SIGSEGV mid-request
  /echo        the request body back (POST)
  /rss         the worker's resident memory, bytes
"""
import ctypes
import os
import time
import urllib.parse

LEAKED = []  # grows with /leak and is never freed: the leak --max-worker-memory catches
PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def app(environ, start_response):
    path = environ["PATH_INFO"]
    query = urllib.parse.parse_qs(environ["QUERY_STRING"])
    if path == "/pid":
        if "s" in query:
            time.sleep(float(query["s"][0]))
        body = str(os.getpid()).encode()
    elif path == "/sleep":
        time.sleep(float(query.get("s", ["1"])[0]))
        body = b"slept"
    elif path == "/leak":
        kib = int(query.get("kb", ["1024"])[0])
        # Non-zero bytes: a zero-filled buffer could stay unbacked by real pages.
        LEAKED.append(b"\x01" * (kib * 1024))
        held = sum(len(b) for b in LEAKED)
        body = ("%d %d" % (os.getpid(), held)).encode()
    elif path == "/segv":
        ctypes.string_at(0)  # SIGSEGV: never returns
        body = b"unreachable"
    elif path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
    elif path == "/rss":
        body = str(resident_bytes()).encode()
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
