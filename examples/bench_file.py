"""Benchmark app (tests/bench/run.py, workload `file`): a 1 MiB file through wsgi.file_wrapper.

The file is $WSGID_BENCH_FILE (the runner writes it); without it a 1 MiB file is generated once
in the temp directory. The server's file_wrapper may use sendfile(2); the app opens the file per
request, as a real static-file view does, and states its size in Content-Length.
"""
import os
import tempfile

SIZE = 1024 * 1024


def _path():
    path = os.environ.get("WSGID_BENCH_FILE")
    if path:
        return path
    path = os.path.join(tempfile.gettempdir(), "wsgid-bench-1MiB.bin")
    if not os.path.exists(path) or os.path.getsize(path) != SIZE:
        fd, partial = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as f:
            f.write(bytes(range(256)) * (SIZE // 256))
        os.replace(partial, path)
    return path


PATH = _path()


def app(environ, start_response):
    f = open(PATH, "rb")
    size = os.fstat(f.fileno()).st_size
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(size))])
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is not None:
        return wrapper(f, 64 * 1024)
    return iter(lambda: f.read(64 * 1024), b"")  # (leaks f's close; every server has a wrapper)
