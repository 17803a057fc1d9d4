"""A small app for the supervision tests: who served me, slow requests, and a version
string read at import time (so a reload shows whether new code was loaded)."""
import os
import time
import urllib.parse

VERSION_FILE = os.environ.get("LIFECYCLE_VERSION_FILE")
VERSION = open(VERSION_FILE).read().strip() if VERSION_FILE else "none"
if VERSION == "broken":
    raise RuntimeError("this version of the app does not import")


def app(environ, start_response):
    path = environ["PATH_INFO"]
    query = urllib.parse.parse_qs(environ["QUERY_STRING"])
    if path == "/spin":
        while True:  # holds the GIL: the worker's C++ heartbeat keeps beating
            pass
    elif path == "/burn":
        # Burns CPU in Python (holding the GIL) for the given milliseconds.
        end = time.thread_time() + float(query.get("ms", ["5"])[0]) / 1000
        while time.thread_time() < end:
            pass
        body = b"burnt"
    elif path == "/sleep":
        time.sleep(float(query.get("s", ["1"])[0]))
        body = b"slept"
    elif path == "/pid":
        body = str(os.getpid()).encode()
    elif path == "/version":
        body = VERSION.encode()
    elif path == "/env":
        body = os.environ.get(query.get("name", [""])[0], "").encode()
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
