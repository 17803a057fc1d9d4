"""Scenario benchmark app (tests/bench/scenario.py): an I/O-bound and a CPU-bound route.

GET /io   sleeps 50 ms (a slow database call: the thread waits, the GIL is released)
GET /cpu  burns 5 ms of this thread's CPU time in Python (holds the GIL)
anything else: 404

The mixed scenario alternates the two routes request by request. The burn is measured with
the thread's own CPU clock, so it costs 5 ms of CPU however contended the machine is (the
time spent waiting for the GIL or a core is not counted). SCENARIO_IO_MS and SCENARIO_CPU_MS
change the two costs.
"""
import os
import time

IO_SECONDS = float(os.environ.get("SCENARIO_IO_MS", "50")) / 1000.0
CPU_SECONDS = float(os.environ.get("SCENARIO_CPU_MS", "5")) / 1000.0

_HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "3")]


def _burn(seconds):
    end = time.thread_time() + seconds
    x = 0
    while time.thread_time() < end:
        for i in range(200):  # about 5-10 us of bytecode between two clock reads
            x += i * i
    return x


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/io":
        time.sleep(IO_SECONDS)
        start_response("200 OK", list(_HEADERS))
        return [b"io\n"]
    if path == "/cpu":
        _burn(CPU_SECONDS)
        start_response("200 OK", _HEADERS + [])
        return [b"cpu"]
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]
