"""HTTP/1.1 request parsing conformance: replays gunicorn's request corpus over a socket.

The corpus (63 valid and 74 invalid requests, README.md beside it) lives in
tests/conformance/gunicorn-http (a copy of the shared corpus), or in the directory named by
WSGID_CONFORMANCE_CORPUS. Each case's raw bytes are sent on a fresh connection to a wsgid
serving examples/environ_echo.py, the write side is shut down, and everything the server
sends until it closes is parsed as a sequence of responses.

- valid cases: exactly one 200 per expected request, in order, whose echoed environ matches
  the expectation: REQUEST_METHOD, PATH_INFO (the percent-decoded path as latin-1, PEP 3333),
  QUERY_STRING, SERVER_PROTOCOL, RAW_URI when the server provides it, every expected header
  as HTTP_* (CONTENT_TYPE / CONTENT_LENGTH for those two, repeats joined with ','), no
  other HTTP_* variable, and the body read from wsgi.input. Trailers are not checked: WSGI
  does not expose them.
- invalid cases: no response below 400 (a 4xx/5xx or a closed connection). Errors in the
  request line or headers must never reach the app, which the app's call log
  (ECHO_CALL_LOG) proves. Errors in a chunked body or its trailers only show when the app
  reads wsgi.input, so the app may be called, but only for the first request of the bytes:
  nothing pipelined after a broken body may reach it.

Cases are grouped by the gunicorn settings they need, one server per distinct flag set.
Settings wsgid has no equivalent for are skipped with their reason; the list of skips (and
of failures) is printed at the end. WSGID_TEST_SERVER=gunicorn runs the same cases against
Debian's gunicorn 20.1 (see harness.py), which is older than the corpus.
"""
import io
import json
import os
import socket
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402

CORPUS_DIR = os.environ.get(
    "WSGID_CONFORMANCE_CORPUS",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn-http"))
# The corpus size is pinned so that a lost or unreadable file fails the test instead of
# silently shrinking it.
EXPECTED_COUNTS = {"valid": 63, "invalid": 74}

APP = "environ_echo:app"
CASE_TIMEOUT = 5.0  # seconds for one case: send, then read until the server closes
# Wall-clock budget for all exchanges (a conforming server needs a few seconds in all):
# bounds the file's run time when a server hangs on many cases; the cases left when it
# runs out fail as not run.
EXCHANGE_BUDGET = 40.0
USING_GUNICORN = harness.UNDER_GUNICORN

# Corpus settings wsgid has no flag for: the cases needing them are skipped.
UNSUPPORTED_SETTINGS = {
    "permit_unconventional_http_method": "wsgid has no permit_unconventional_http_method",
    "casefold_http_method": "wsgid has no casefold_http_method",
}

# Errors that live in a chunked body: a streaming server finds them only while the app
# reads wsgi.input, so the app may have been called.
CHUNKED_BODY_ERRORS = {"InvalidChunkSize", "ChunkMissingTerminator", "InvalidChunkExtension"}
# Cases whose error is a forbidden field in the chunked trailer section, which comes after
# the body: same situation as above although gunicorn names the error after the header.
TRAILER_ERROR_CASES = {
    "rfc9110_trailer_forbidden_cl_01",
    "rfc9110_trailer_forbidden_host_01",
    "rfc9110_trailer_forbidden_te_01",
}

# The two CONNECT (authority-form) cases: their note says only the method is meaningful
# and that a WSGI server may also refuse CONNECT with 405 or 501.
AUTHORITY_FORM_STATUSES = {200, 405, 501}


def load_raw(path):
    """The bytes of a .raw file.

    The corpus was converted from gunicorn's .http files, which spell CRLF, NUL, HTAB and
    LF as the escapes \\r\\n, \\0, \\t and \\n. The conversion undid the first two only: a
    few files still hold a literal backslash-t or backslash-n (valid/padding_01 and
    valid/rfc9110_field_value_htab_trim_01 expect the tabs trimmed, which only makes sense
    for real tabs). Undo those escapes the way gunicorn's own test loader does and refuse
    any other backslash, which would be a new, unknown escape."""
    with open(path, "rb") as f:
        data = f.read()
    data = data.replace(b"\\t", b"\t").replace(b"\\n", b"\n").replace(b"\\0", b"\0")
    if b"\\" in data:
        raise ValueError("unexpected backslash escape in %s" % path)
    return data


class Case:
    """One corpus file pair and what the runner makes of it."""

    def __init__(self, kind, name):
        self.kind = kind
        self.name = name
        self.id = "%s/%s" % (kind, name)
        self.load_error = None
        self.raw = b""
        self.spec = {}
        try:
            self.raw = load_raw(os.path.join(CORPUS_DIR, kind, name + ".raw"))
            with open(os.path.join(CORPUS_DIR, kind, name + ".json"), encoding="utf-8") as f:
                self.spec = json.load(f)
        except (OSError, ValueError) as e:
            self.load_error = "cannot load the case: %s" % e
        self.flags, self.skip_reason, self.setting_error = flags_for(
            self.spec.get("settings", {}))

    @property
    def error_name(self):
        return self.spec.get("error")

    @property
    def is_body_error(self):
        """An invalid case whose error only shows while the app reads the body."""
        return self.error_name in CHUNKED_BODY_ERRORS or self.name in TRAILER_ERROR_CASES

    @property
    def is_authority_form(self):
        return "note" in self.spec and "authority-form" in self.spec["note"]

    @property
    def first_target(self):
        """The request target of the first request line, as the app's call log shows it."""
        parts = self.raw.split(b"\r\n", 1)[0].split(b" ")
        return parts[1].decode("latin-1") if len(parts) > 1 else None


def flags_for(settings):
    """Maps corpus settings to server flags: (flags tuple, skip reason, error)."""
    flags = []
    skips = []
    for key, value in sorted(settings.items()):
        if key in UNSUPPORTED_SETTINGS:
            skips.append("%s: %s" % (key, UNSUPPORTED_SETTINGS[key]))
        elif key == "limit_request_line":
            flags += ["--limit-request-line", str(value)]
        elif key == "limit_request_fields":
            flags += ["--limit-request-fields", str(value)]
        elif key == "limit_request_field_size":
            # Passed through as is, 0 included: the corpus's limit_header_default_01
            # expects 0 to fall back to the default limit (8190), not to mean unlimited.
            if USING_GUNICORN:
                flags += ["--limit-request-field_size", str(value)]
            else:
                flags += ["--limit-request-field-size", str(value)]
        elif key == "strip_header_spaces":
            if value:
                flags.append("--strip-header-spaces")
        elif key == "forwarded_allow_ips":
            # With Gunicorn's default --secure-scheme-headers, read from these peers only
            # (invalid/019: two that contradict each other are a 400).
            flags += ["--forwarded-allow-ips", str(value)]
        elif key == "header_map":
            if USING_GUNICORN:
                skips.append("header_map: the reference gunicorn 20.1 has no --header-map")
            flags += ["--header-map", str(value)]
        elif key == "proxy_protocol":
            # Gunicorn's proxy_protocol: the header is optional (valid/pp_03 has none);
            # wsgid requires it unless --proxy-protocol-optional says so.
            if value:
                flags.append("--proxy-protocol")
                if not USING_GUNICORN:
                    flags.append("--proxy-protocol-optional")
        elif key == "permit_obsolete_folding":
            if USING_GUNICORN:
                skips.append("permit_obsolete_folding: the reference gunicorn 20.1 has no "
                             "--permit-obsolete-folding")
            if value:
                flags.append("--permit-obsolete-folding")
        else:
            return (), None, "unknown corpus setting %r: teach the runner about it" % key
    return tuple(flags), "; ".join(skips) or None, None


def load_corpus():
    """Every case in the corpus, plus the names of .raw/.json files lacking their pair."""
    cases = []
    unpaired = []
    for kind in ("valid", "invalid"):
        directory = os.path.join(CORPUS_DIR, kind)
        files = os.listdir(directory) if os.path.isdir(directory) else []
        raws = {f[:-4] for f in files if f.endswith(".raw")}
        jsons = {f[:-5] for f in files if f.endswith(".json")}
        unpaired += ["%s/%s" % (kind, n) for n in sorted(raws ^ jsons)]
        cases += [Case(kind, name) for name in sorted(raws & jsons)]
    return cases, unpaired


class Exchange:
    """What came back for one case's bytes."""

    def __init__(self):
        self.received = b""
        self.end = None          # "closed", "reset", "timeout" or "no server"
        self.send_error = None
        self.responses = []      # (status, headers, body), interim 1xx included
        self.parse_error = None
        self.calls = []          # the app's call log entries made during the exchange
        self.server_note = None  # set when the server is down: its log tail

    def describe(self):
        parts = ["statuses %s" % [r[0] for r in self.responses], "connection %s" % self.end]
        if self.send_error:
            parts.append("send failed: %s" % self.send_error)
        if self.parse_error:
            parts.append(self.parse_error)
        parts.append("app calls %s" % [(c.get("method"), c.get("uri")) for c in self.calls])
        parts.append("received %r" % self.received[:300])
        if self.server_note:
            parts.append(self.server_note)
        return "; ".join(parts)


def parse_responses(data):
    """Splits what the server sent into responses; returns (responses, error or None)."""
    stream = io.BytesIO(data)
    responses = []
    while stream.tell() < len(data):
        start = stream.tell()
        try:
            status, headers, body = harness.read_response(stream)
        except (ValueError, IndexError, ConnectionError) as e:
            return responses, "unparseable response bytes at %d (%s): %r" % (
                start, e, data[start:start + 200])
        if "content-length" in headers and len(body) < int(headers["content-length"]):
            return responses, "response %d truncated: %d of %s body bytes" % (
                status, len(body), headers["content-length"])
        responses.append((status, headers, body))
    return responses, None


def exchange(port, raw, budget_end):
    """Sends raw on a fresh connection, half-closes, reads until the server closes."""
    result = Exchange()
    deadline = min(time.monotonic() + CASE_TIMEOUT, budget_end)
    if deadline <= time.monotonic():
        result.end = "not run: time budget exhausted by earlier cases that hung"
        return result
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=CASE_TIMEOUT)
    except OSError as e:
        result.end = "no server (%s)" % e
        return result
    chunks = []
    with sock:
        try:
            sock.sendall(raw)
        except OSError as e:
            # The server may reject and close before reading everything; what it sent
            # before closing is still worth reading.
            result.send_error = str(e)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.end = "timeout"
                break
            sock.settimeout(remaining)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                result.end = "timeout"
                break
            except ConnectionResetError:
                result.end = "reset"
                break
            if not data:
                result.end = "closed"
                break
            chunks.append(data)
    result.received = b"".join(chunks)
    result.responses, result.parse_error = parse_responses(result.received)
    return result


def read_calls(path, offset):
    """The call log entries written after offset."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            lines = f.read().decode("ascii").splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


def log_size(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def expected_path_info(path):
    """PEP 3333: PATH_INFO is the percent-decoded path, bytes shown as latin-1."""
    return urllib.parse.unquote_to_bytes(path.encode("latin-1")).decode("latin-1")


def expected_cgi_headers(headers):
    """The environ variables a list of (NAME, value) request headers must produce."""
    env = {}
    for name, value in headers:
        if name == "CONTENT-TYPE":
            key = "CONTENT_TYPE"
        elif name == "CONTENT-LENGTH":
            key = "CONTENT_LENGTH"
        else:
            key = "HTTP_" + name.replace("-", "_")
        env[key] = env[key] + "," + value if key in env else value
    return env


def compare_environ(expected, echoed):
    """Differences between one expected request and the app's echo of it."""
    environ = echoed.get("environ", {})
    problems = []

    def check(label, got, want):
        if got != want:
            problems.append("%s: got %r, want %r" % (label, got, want))

    check("REQUEST_METHOD", environ.get("REQUEST_METHOD"), expected["method"])
    check("SCRIPT_NAME", environ.get("SCRIPT_NAME", ""), "")
    check("PATH_INFO", environ.get("PATH_INFO"), expected_path_info(expected["uri"]["path"]))
    check("QUERY_STRING", environ.get("QUERY_STRING"), expected["uri"]["query"])
    check("SERVER_PROTOCOL", environ.get("SERVER_PROTOCOL"), "HTTP/%d.%d" % tuple(
        expected["version"]))
    if "RAW_URI" in environ:
        check("RAW_URI", environ["RAW_URI"], expected["uri"]["raw"])
    want_headers = expected_cgi_headers(expected["headers"])
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if key in want_headers:
            check(key, environ.get(key), want_headers[key])
        elif environ.get(key, ""):
            # PEP 3333 lets these be absent or empty when the client sent no such header.
            problems.append("%s: got %r, want absent or empty" % (key, environ[key]))
    got_http = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    want_http = {k: v for k, v in want_headers.items() if k.startswith("HTTP_")}
    for key in sorted(set(got_http) | set(want_http)):
        check(key, got_http.get(key, "<absent>"), want_http.get(key, "<absent>"))
    check("body", echoed.get("body"), expected["body"])
    return problems


def declares_more_body_than_sent(expected):
    """True when Content-Length says more than the case's bytes hold.

    valid/099 is such a case: gunicorn's parser test feeds it from a file and accepts the
    short body, but over a socket the request is incomplete, and RFC 9112 section 8 lets a
    server answer an incomplete request with an error or just close."""
    for name, value in expected["headers"]:
        if name == "CONTENT-LENGTH" and value.isdigit():
            return int(value) > len(expected["body"].encode("latin-1"))
    return False


def check_valid(case, result):
    """Problems with a valid case's outcome; empty when it conforms."""
    problems = []
    expected = case.spec["requests"]
    final = [r for r in result.responses if r[0] >= 200]
    if result.end == "timeout":
        problems.append("server neither finished answering nor closed within %gs"
                        % CASE_TIMEOUT)
    elif result.end.startswith(("not run", "no server")):
        return [result.end]
    if result.parse_error:
        problems.append(result.parse_error)
    if (declares_more_body_than_sent(expected[-1]) and result.end != "timeout"
            and all(r[0] >= 400 for r in final)):
        return problems  # refusing an incomplete request (error or close) is allowed
    if len(final) != len(expected):
        problems.append("%d final responses for %d requests" % (len(final), len(expected)))
    for index, (response, want) in enumerate(zip(final, expected)):
        status, _, body = response
        label = "request %d (%s %s)" % (index + 1, want["method"], want["uri"]["raw"])
        if case.is_authority_form:
            if status not in AUTHORITY_FORM_STATUSES:
                problems.append("%s: status %d, want one of %s" % (
                    label, status, sorted(AUTHORITY_FORM_STATUSES)))
            elif status == 200:
                echoed = json.loads(body)
                if echoed["environ"].get("REQUEST_METHOD") != want["method"]:
                    problems.append("%s: REQUEST_METHOD %r" % (
                        label, echoed["environ"].get("REQUEST_METHOD")))
            continue
        if status != 200:
            problems.append("%s: status %d, body %r" % (label, status, body[:200]))
            continue
        try:
            echoed = json.loads(body)
        except ValueError:
            problems.append("%s: the 200 is not the echo app's JSON: %r" % (label, body[:200]))
            continue
        problems += ["%s: %s" % (label, p) for p in compare_environ(want, echoed)]
    return problems


def check_invalid(case, result):
    """Problems with an invalid case's outcome; empty when the server refused it."""
    problems = []
    if result.end == "timeout":
        problems.append("server neither answered nor closed within %gs" % CASE_TIMEOUT)
    elif result.end.startswith(("not run", "no server")):
        return [result.end]
    if result.parse_error:
        problems.append(result.parse_error)
    accepted = [r[0] for r in result.responses if r[0] < 400]
    if accepted:
        problems.append("answered with status %s, want only 4xx/5xx or a close" % accepted)
    if case.is_body_error:
        strays = [c for c in result.calls if c.get("uri") != case.first_target]
        if strays:
            problems.append("the app received requests pipelined after the broken body: %s"
                            % [(c.get("method"), c.get("uri")) for c in strays])
    elif result.calls:
        problems.append("the app was called for a request rejected in its head (%s)"
                        % case.error_name)
    return problems


class CorpusTest(unittest.TestCase):
    cases = []
    unpaired = []
    results = {}      # case id -> Exchange
    skipped = []      # (case id, reason)
    failed = []       # (case id, first problem)

    @classmethod
    def setUpClass(cls):
        cls.cases, cls.unpaired = load_corpus()
        cls.results = {}
        cls.skipped = []
        cls.failed = []
        groups = {}
        for case in cls.cases:
            if case.load_error or case.skip_reason or case.setting_error:
                continue
            groups.setdefault(case.flags, []).append(case)
        cls.tmpdir = tempfile.TemporaryDirectory(prefix="wsgid-corpus-")
        cls.budget_end = time.monotonic() + EXCHANGE_BUDGET
        # The default flag set first, then the others in a stable order.
        for index, flags in enumerate(sorted(groups, key=lambda f: (len(f) > 0, f))):
            cls.run_group(flags, groups[flags], os.path.join(cls.tmpdir.name,
                                                              "calls-%d.log" % index))

    @classmethod
    def run_group(cls, flags, cases, call_log):
        server = harness.Server(APP, *flags, workers=1, threads=2,
                                env={"ECHO_CALL_LOG": call_log})
        try:
            server.start()
        except RuntimeError as e:
            # A flag set the server refuses fails its cases, not the whole class.
            for case in cases:
                result = Exchange()
                result.end = "no server"
                result.server_note = "server with flags %s did not start: %s" % (
                    list(flags), str(e)[-1500:])
                cls.results[case.id] = result
            server.__exit__(None, None, None)  # removes the captured log
            return
        try:
            for case in cases:
                offset = log_size(call_log)
                result = exchange(server.port, case.raw, cls.budget_end)
                result.calls = read_calls(call_log, offset)
                if server.proc.poll() is not None:
                    result.server_note = "server exited (%s); log tail: %s" % (
                        server.proc.returncode, server.log()[-1500:])
                cls.results[case.id] = result
        finally:
            server.__exit__(None, None, None)  # stops it, removes the captured log

    @classmethod
    def tearDownClass(cls):
        cls.tmpdir.cleanup()
        out = sys.stderr
        print("\n== conformance corpus (%s): %d cases, %d skipped, %d failed" % (
            CORPUS_DIR, len(cls.cases), len(cls.skipped), len(cls.failed)), file=out)
        if cls.skipped:
            print("-- skipped cases and why:", file=out)
            for case_id, reason in cls.skipped:
                print("   %-45s %s" % (case_id, reason), file=out)
        if cls.failed:
            print("-- failed cases (first problem; details above):", file=out)
            for case_id, problem in cls.failed:
                print("   %-45s %s" % (case_id, problem[:150]), file=out)

    def test_corpus_is_complete(self):
        self.assertEqual(self.unpaired, [], "corpus files without their .raw/.json pair")
        for kind, count in EXPECTED_COUNTS.items():
            names = [c.name for c in self.cases if c.kind == kind]
            self.assertEqual(len(names), count, "%s cases in %s/%s" % (kind, CORPUS_DIR, kind))
        names = {c.name for c in self.cases if c.kind == "invalid"}
        self.assertLessEqual(TRAILER_ERROR_CASES, names,
                             "trailer cases listed in the runner but missing from the corpus")

    def test_valid_cases(self):
        self.run_cases("valid", check_valid)

    def test_invalid_cases(self):
        self.run_cases("invalid", check_invalid)

    def run_cases(self, kind, check):
        ran = skipped = 0
        for case in (c for c in self.cases if c.kind == kind):
            with self.subTest(case=case.id):
                if case.skip_reason and not case.load_error and not case.setting_error:
                    skipped += 1
                    self.skipped.append((case.id, case.skip_reason))
                    self.skipTest(case.skip_reason)
                ran += 1
                problems = [p for p in (case.load_error, case.setting_error) if p]
                if not problems:
                    result = self.results[case.id]
                    problems = check(case, result)
                    if problems:
                        problems.append("-> " + result.describe())
                if problems:
                    self.failed.append((case.id, problems[0]))
                    self.fail("%s (%s):\n  %s" % (case.id, case.error_name or "valid",
                                                  "\n  ".join(problems)))
        # Every case of the kind was either run or skipped with a stated reason.
        self.assertEqual(ran + skipped, EXPECTED_COUNTS[kind])


if __name__ == "__main__":
    unittest.main()
