"""TLS in the worker and the PROXY protocol (issue 17), against a CA this test makes with
the openssl CLI: curl and Python's ssl over https (keep-alive, POST, chunked both ways,
wsgi.file_wrapper), http:// binds beside https ones, TLS 1.0/1.1 and plaintext refused,
sslscan finding no weak protocol or cipher, session resumption across workers, mutual TLS,
the start-up checks of key and certificate files (exit 2) and of a reload (409), a HUP with
a renewed certificate under load, a stalled handshake holding no app thread, and PROXY v1/v2
headers directly and from HAProxy (send-proxy, send-proxy-v2)."""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness

sys.path.insert(0, harness.EXAMPLES)
from behaviour_app import pattern_bytes  # noqa: E402

harness.require_binaries("wsgid", "wsgictl")


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=30)


class Pki:
    """A CA, server certificates for localhost/127.0.0.1 and a client certificate."""

    def __init__(self):
        harness.require_tool("openssl")
        self.dir = tempfile.mkdtemp(prefix="wsgid-tls-")
        self.ca_key, self.ca = self.path("ca.key"), self.path("ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "2",
                "-subj", "/CN=wsgid test CA")
        self.cert, self.key = self.issue("server", "/CN=localhost")
        self.client_cert, self.client_key = self.issue("client", "/CN=client one/O=tests")

    def path(self, name):
        return os.path.join(self.dir, name)

    def issue(self, name, subject):
        key, csr, cert = self.path(name + ".key"), self.path(name + ".csr"), \
            self.path(name + ".pem")
        ext = self.path("ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", csr, "-subj", subject)
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
        os.chmod(key, 0o600)
        return cert, key

    def client_context(self, cert=False):
        ctx = ssl.create_default_context(cafile=self.ca)
        if cert:
            ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


TlsServer = harness.TlsServer


class TlsControlledServer(harness.ControlledServer):
    _wait_ready = TlsServer._wait_ready


def https(server, ctx, path="/", method="GET", body=None, headers=None, conn=None):
    conn = conn or http.client.HTTPSConnection(server.host, server.port, context=ctx,
                                               timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return conn, response.status, response.read(), response


def peer_cert(server, ctx):
    with socket.create_connection((server.host, server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert(binary_form=True)


def serves_new_cert(server, ctx, old):
    try:
        return peer_cert(server, ctx) != old
    except (OSError, ssl.SSLError):
        return False


def refused(server, ctx):
    """Whether a TLS client with `ctx` is refused (handshake or first exchange fails)."""
    try:
        conn, status, _, _ = https(server, ctx, "/hello")
        conn.close()
        return False
    except (ssl.SSLError, ConnectionError, http.client.HTTPException, OSError):
        return True


class TlsServerTest(unittest.TestCase):
    """One https server (2 workers) with an http:// bind beside it."""

    @classmethod
    def setUpClass(cls):
        cls.pki = Pki()
        cls.appdir = tempfile.mkdtemp(prefix="wsgid-tls-app-")
        cls.plain_port = harness.free_port()
        cls.server = TlsServer(
            "behaviour_app:app", "--certfile", cls.pki.cert, "--keyfile", cls.pki.key,
            "-b", "http://127.0.0.1:%d" % cls.plain_port, "-e", "BEHAVIOUR_DIR=" + cls.appdir,
            "--header-timeout", "1.5", workers=2, threads=1).start()
        cls.ctx = cls.pki.client_context()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.pki.remove()
        shutil.rmtree(cls.appdir, ignore_errors=True)

    def test_curl_https_with_alpn(self):
        harness.require_tool("curl")
        out = subprocess.run(["curl", "-sS", "-v", "--cacert", self.pki.ca,
                              "https://127.0.0.1:%d/hello" % self.server.port],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("server accepted http/1.1", out.stderr)
        self.assertIn("TLSv1.3", out.stderr)
        self.assertIn("200", out.stderr)

    def test_keep_alive_post_chunked_and_file_wrapper(self):
        conn, status, body, _ = https(self.server, self.ctx, "/hello")
        self.assertEqual(status, 200)
        payload = os.urandom(100000)
        _, status, body, r = https(self.server, self.ctx, "/echo", "POST", payload, conn=conn)
        self.assertEqual((status, body), (200, payload))
        chunks = (payload[i:i + 7000] for i in range(0, len(payload), 7000))
        conn.request("POST", "/echo", body=chunks, encode_chunked=True)
        r = conn.getresponse()
        self.assertEqual((r.status, r.read()), (200, payload))
        _, status, body, r = https(self.server, self.ctx, "/no_length", conn=conn)
        self.assertEqual(r.getheader("Transfer-Encoding"), "chunked")
        self.assertEqual(body, b"part1-part2-part3")
        for size in (300000, 5):
            _, status, body, _ = https(self.server, self.ctx, "/file?size=%d" % size,
                                       conn=conn)
            self.assertEqual((status, len(body)), (200, size))
            self.assertEqual(body, pattern_bytes(size))
        _, status, body, _ = https(self.server, self.ctx, "/environ", conn=conn)
        self.assertEqual(json.loads(body)["wsgi.url_scheme"]["value"], "https")
        conn.close()
        self.assertIn("wsgi.file_wrapper over TLS: buffered read loop", self.server.log())

    def test_plain_bind_beside_tls(self):
        self.assertEqual(harness.get("http://127.0.0.1:%d/hello" % self.plain_port)[0], 200)

    def test_plaintext_on_tls_port_refused(self):
        with self.server.connect() as s:
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(5)
            try:
                data = s.recv(100)
            except ConnectionError:
                data = b""
            self.assertFalse(data.startswith(b"HTTP/"), data)

    def test_tls10_and_tls11_refused(self):
        for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(self.pki.ca)
            ctx.set_ciphers("ALL:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = version
            self.assertTrue(refused(self.server, ctx), version)
        harness.require_tool("openssl")
        for flag in ("-tls1", "-tls1_1"):
            out = subprocess.run(["openssl", "s_client", flag, "-cipher", "ALL:@SECLEVEL=0",
                                  "-connect", "127.0.0.1:%d" % self.server.port],
                                 input="", capture_output=True, text=True, timeout=20)
            self.assertNotEqual(out.returncode, 0, flag)

    def test_sslscan_finds_nothing_weak(self):
        harness.require_tool("sslscan", "apt-get install sslscan")
        out = subprocess.run(["sslscan", "--no-colour", "--no-heartbleed", "--no-renegotiation",
                              "127.0.0.1:%d" % self.server.port],
                             capture_output=True, text=True, timeout=60)
        text = out.stdout
        self.assertIn("TLSv1.3   enabled", text, text)
        for weak in ("SSLv2     enabled", "SSLv3     enabled", "TLSv1.0   enabled",
                     "TLSv1.1   enabled"):
            self.assertNotIn(weak, text)
        accepted = [line for line in text.splitlines() if line.startswith(("Preferred",
                                                                          "Accepted"))]
        self.assertTrue(accepted, text)
        for line in accepted:
            for weak in ("RC4", "DES", "NULL", "EXP", "MD5", "CBC", " 40 bits", " 56 bits",
                         "anon"):
                self.assertNotIn(weak, line)

    def test_session_resumes_on_any_worker(self):
        ctx = self.pki.client_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # sessions ready after the handshake
        session, reused = None, []
        for _ in range(8):
            with socket.create_connection((self.server.host, self.server.port), 10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost",
                                     session=session) as s:
                    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    while s.recv(4096):
                        pass
                    reused.append(s.session_reused)
                    session = s.session
        self.assertEqual(reused, [False] + [True] * 7)

    def test_tls13_resumption_gets_a_fresh_ticket_each_time(self):
        # TLS 1.3 tickets are for one use: each connection resumes with the ticket the
        # previous one got, as wrk and browsers do, so a resumed connection must get a
        # new ticket (without one, every other connection was a full handshake).
        ctx = self.pki.client_context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        session, reused, ids = None, [], []
        for _ in range(6):
            with socket.create_connection((self.server.host, self.server.port), 10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost",
                                     session=session) as s:
                    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    while s.recv(4096):  # the ticket comes after the handshake
                        pass
                    reused.append(s.session_reused)
                    session = s.session
                    ids.append(session.id)
        self.assertEqual(reused, [False] + [True] * 5)
        self.assertEqual(len(set(ids)), 6, "a resumed connection got no new ticket")

    def test_malformed_records_close_only_their_connection(self):
        hello = bytes.fromhex("16030100")  # a handshake record header, then garbage
        bad = [hello + b"\xff\xff" + os.urandom(300),        # length beyond a record
               b"\x17\x03\x03\x00\x10" + os.urandom(16),   # app data before a hello
               b"\x16\x03\x01\x00\x30" + os.urandom(48),   # a hello of random bytes
               os.urandom(2000)]
        for data in bad:
            self.assertFalse(exchange(self.server, data).startswith(b"HTTP/"))
        # A record garbled after a good handshake.
        raw = socket.create_connection((self.server.host, self.server.port), 10)
        tls = self.ctx.wrap_socket(raw, server_hostname="localhost")
        os.write(tls.fileno(), b"\x17\x03\x03\x00\x20" + os.urandom(32))
        tls.settimeout(5)
        with self.assertRaises((ssl.SSLError, ConnectionError, socket.timeout)):
            if not tls.recv(100):
                raise ConnectionError("closed")
        tls.close()
        _, status, _, _ = https(self.server, self.ctx, "/hello")
        self.assertEqual(status, 200)
        self.assertNotIn("exited (crash)", self.server.log())

    def test_stalled_handshake_holds_no_thread(self):
        # Each worker has one app thread; two silent connections (one per worker at
        # most) must not stop a real client, and are closed by --header-timeout.
        stalled = [self.server.connect() for _ in range(2)]
        stalled[1].sendall(b"\x16\x03\x01\x00")  # a truncated record header
        _, status, _, _ = https(self.server, self.ctx, "/hello")
        self.assertEqual(status, 200)
        for s in stalled:
            s.settimeout(10)
            started = time.monotonic()
            try:
                self.assertEqual(s.recv(10), b"")
            except ConnectionError:
                pass
            self.assertLess(time.monotonic() - started, 8)
            s.close()


class MutualTlsTest(unittest.TestCase):
    def test_client_certificate_required(self):
        pki = Pki()
        try:
            with TlsServer("environ_echo:app", "--certfile", pki.cert, "--keyfile",
                           pki.key, "--ca-certs", pki.ca, "--cert-reqs", "2") as server:
                self.assertTrue(refused(server, pki.client_context()))
                conn, status, body, _ = https(server, pki.client_context(cert=True), "/x")
                conn.close()
                env = json.loads(body)["environ"]
                self.assertEqual(status, 200)
                self.assertEqual(env["SSL_CLIENT_S_DN"], "O=tests,CN=client one")
                self.assertEqual(env["SSL_CLIENT_I_DN"], "CN=wsgid test CA")
                self.assertEqual(env["SSL_CLIENT_VERIFY"], "SUCCESS")
                self.assertEqual(env["wsgi.url_scheme"], "https")
        finally:
            pki.remove()


class FileChecksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = Pki()
        cls.other_key = cls.pki.issue("other", "/CN=other")[1]

    @classmethod
    def tearDownClass(cls):
        cls.pki.remove()

    def start_fails(self, *flags):
        out = subprocess.run([harness.WSGID, "-b", "127.0.0.1:%d" % harness.free_port(),
                              "--ops-bind", "off", "--control-socket", "off", "--chdir",
                              harness.EXAMPLES] + list(flags) + ["hello:app"],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 2, out.stderr)
        return out.stderr

    def test_bad_files_stop_the_start(self):
        err = self.start_fails("--certfile", self.pki.cert, "--keyfile", self.other_key)
        self.assertIn("does not match", err)
        err = self.start_fails("--certfile", self.pki.path("missing.pem"),
                               "--keyfile", self.pki.key)
        self.assertIn("missing.pem", err)
        readable = self.pki.path("readable.key")
        shutil.copy(self.pki.key, readable)
        os.chmod(readable, 0o644)
        err = self.start_fails("--certfile", self.pki.cert, "--keyfile", readable)
        self.assertIn("readable by other users", err)
        with open(self.pki.key) as f:
            secret = f.read().split("\n")[1]
        self.assertNotIn(secret, err)
        err = self.start_fails("--certfile", self.pki.cert, "--keyfile", self.pki.key,
                               "--cert-reqs", "2")
        self.assertIn("--ca-certs", err)
        err = self.start_fails("--ssl-min-version", "TLSv1.1")
        self.assertIn("TLSv1.2", err)

    def test_gunicorn_ssl_context_hook_is_answered(self):
        conf = self.pki.path("gunicorn.conf.py")
        with open(conf, "w") as f:
            f.write("certfile = %r\nkeyfile = %r\ncert_reqs = 0\n"
                    "def ssl_context(conf, default_ssl_context_factory):\n"
                    "    return default_ssl_context_factory()\n"
                    % (self.pki.cert, self.pki.key))
        with TlsServer("hello:app", "-c", conf) as server:
            self.assertIn("'ssl_context' is ignored: wsgid builds "
                          "its TLS context from certfile", server.log())
            self.assertFalse(refused(server, self.pki.client_context()))

    def test_gunicorn_ssl_version_is_mapped_with_a_warning(self):
        with TlsServer("hello:app", "--certfile", self.pki.cert, "--keyfile",
                            self.pki.key, "--ssl-version", "TLSv1") as server:
            self.assertIn("--ssl-version TLSv1", server.log())
            self.assertIn("--ssl-min-version TLSv1.2", server.log())
            ctx = self.pki.client_context()
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            self.assertTrue(refused(server, ctx))


class TlsLoad:
    """HTTPS clients (half keep-alive, half a connection per request) counting failures."""

    def __init__(self, server, ctx, clients=4):
        self.server, self.ctx = server, ctx
        self.failures, self.served, self.stop_flag = [], 0, threading.Event()
        self.threads = [threading.Thread(target=self.loop, args=(i % 2 == 0,), daemon=True)
                        for i in range(clients)]
        for t in self.threads:
            t.start()

    def loop(self, keep_alive):
        conn = None
        while not self.stop_flag.is_set():
            try:
                conn, status, _, r = https(self.server, self.ctx, "/pid", conn=conn)
                if status != 200:
                    self.failures.append(status)
                self.served += 1
                if not keep_alive or r.getheader("Connection") == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # judged by the test
                self.failures.append(repr(e))
                conn = None

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(20)


class ReloadTest(unittest.TestCase):
    def test_hup_with_renewed_certificate_under_load(self):
        pki = Pki()
        try:
            cert, key = pki.path("live.pem"), pki.path("live.key")
            shutil.copy(pki.cert, cert)
            shutil.copy(pki.key, key)
            os.chmod(key, 0o600)
            with TlsControlledServer("lifecycle_app:app", "--certfile", cert,
                                          "--keyfile", key, workers=2) as server:
                ctx = pki.client_context()
                first = peer_cert(server, ctx)
                load = TlsLoad(server, ctx)
                time.sleep(0.5)
                # A key that does not match: the reload is refused (409), nothing changes.
                other_cert = pki.issue("renewed", "/CN=localhost")[0]
                shutil.copy(other_cert, cert)
                out = server.ctl("reload", check=1)
                self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
                self.assertIn("does not match", out.stdout + out.stderr)
                self.assertEqual(peer_cert(server, ctx), first)
                # The renewed pair: a HUP, and the new certificate is served.
                shutil.copy(pki.path("renewed.key"), key)
                server.proc.send_signal(signal.SIGHUP)
                self.assertTrue(harness.wait_until(
                    lambda: serves_new_cert(server, ctx, first), 20))
                time.sleep(0.5)
                load.stop()
                self.assertEqual(load.failures, [])
                self.assertGreater(load.served, 20)
                with open(other_cert) as f:
                    pem = f.read()
                self.assertEqual(peer_cert(server, ctx), ssl.PEM_cert_to_DER_cert(pem))
        finally:
            pki.remove()


class ControlPortTlsTest(unittest.TestCase):
    def test_wsgictl_over_https_verifies_the_daemon(self):
        pki = Pki()
        try:
            token = pki.path("token")
            with open(token, "w") as f:
                f.write("s3cret-token\n")
            port = harness.free_port()
            with harness.Server("hello:app", "--control-bind", "127.0.0.1:%d" % port,
                                "--control-token-file", token, "--control-certfile",
                                pki.cert, "--control-keyfile", pki.key) as server:
                url = "https://127.0.0.1:%d" % port
                ok = harness.wsgictl("--url", url, "--token-file", token, "--cacert",
                                     pki.ca, "-o", "json", "status", check=0)
                self.assertIn("generation", ok.stdout)
                # Without the CA, the daemon's certificate is not trusted.
                harness.wsgictl("--url", url, "--token-file", token, "status", check=3)
                # Plain HTTP to the TLS control port gets nothing.
                harness.wsgictl("--url", "http://127.0.0.1:%d" % port, "--token-file",
                                token, "status", check=3)
                self.assertNotIn("s3cret-token", server.log())
        finally:
            pki.remove()


def proxy_v2(src, sport, dst="127.0.0.1", dport=443, tlv=b""):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    body += tlv
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body))
            + body)


def read_to_eof(sock):
    """Every byte `sock` receives until the peer closes."""
    out = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            return out
        out += piece


def exchange(server, data, source="127.0.0.1", tls_ctx=None, preface=b""):
    """Sends `preface` then `data` (over TLS with tls_ctx); the response bytes (b"" if
    the server closed without one)."""
    raw = socket.create_connection((server.host, server.port), 10, (source, 0))
    try:
        raw.sendall(preface)
        s = tls_ctx.wrap_socket(raw, server_hostname="localhost") if tls_ctx else raw
        s.sendall(data)
        return read_to_eof(s)
    except (ConnectionError, ssl.SSLError):
        return b""
    finally:
        raw.close()


def echoed_environ(response):
    return json.loads(response.split(b"\r\n\r\n", 1)[1])["environ"]


REQUEST = b"GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


class ProxyProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.calls = tempfile.NamedTemporaryFile(delete=False).name
        cls.server = TlsServer("environ_echo:app", "--proxy-protocol",
                                    env={"ECHO_CALL_LOG": cls.calls}).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        os.unlink(cls.calls)

    def app_calls(self):
        with open(self.calls) as f:
            return len(f.readlines())

    def test_v1_and_v2_set_the_remote_address(self):
        out = exchange(self.server, REQUEST,
                       preface=b"PROXY TCP4 203.0.113.7 127.0.0.1 4242 80\r\n")
        env = echoed_environ(out)
        self.assertEqual((env["REMOTE_ADDR"], env["REMOTE_PORT"]), ("203.0.113.7", "4242"))
        out = exchange(self.server, REQUEST,
                       preface=proxy_v2("198.51.100.9", 5151, tlv=b"\x04\x00\x02ab"))
        env = echoed_environ(out)
        self.assertEqual((env["REMOTE_ADDR"], env["REMOTE_PORT"]), ("198.51.100.9", "5151"))
        # The header split over several packets.
        raw = socket.create_connection((self.server.host, self.server.port), 10)
        for piece in (b"PROXY TCP4 203.0", b".113.8 127.0.0.1 1 2\r", b"\n" + REQUEST):
            raw.sendall(piece)
            time.sleep(0.05)
        out = read_to_eof(raw)
        raw.close()
        self.assertEqual(echoed_environ(out)["REMOTE_ADDR"], "203.0.113.8")

    def test_missing_malformed_or_disallowed_header_closes_before_the_app(self):
        before = self.app_calls()
        self.assertEqual(exchange(self.server, REQUEST), b"")
        self.assertEqual(exchange(self.server, REQUEST, preface=b"PROXY TCP4 1.2.3 x\r\n"),
                         b"")
        self.assertEqual(exchange(self.server, REQUEST, preface=b"PROXY TCP4 1.2.3.4"), b"")
        self.assertEqual(exchange(self.server, REQUEST, source="127.0.0.2",
                                  preface=b"PROXY TCP4 1.2.3.4 1.2.3.4 1 2\r\n"), b"")
        self.assertEqual(self.app_calls(), before)


class ProxyAllowNetworkTest(unittest.TestCase):
    def test_peer_in_an_allowed_network_is_accepted_and_one_outside_refused(self):
        calls = tempfile.NamedTemporaryFile(delete=False).name
        try:
            # 127.0.0.0/29 is 127.0.0.0 to 127.0.0.7.
            with TlsServer("environ_echo:app", "--proxy-protocol", "--proxy-allow-from",
                           "fd00::/8,127.0.0.0/29", env={"ECHO_CALL_LOG": calls}) as server:
                header = b"PROXY TCP4 203.0.113.7 127.0.0.1 4242 80\r\n"
                for source in ("127.0.0.1", "127.0.0.7"):
                    env = echoed_environ(exchange(server, REQUEST, source=source,
                                                  preface=header))
                    self.assertEqual(env["REMOTE_ADDR"], "203.0.113.7", source)
                with open(calls) as f:
                    before = len(f.readlines())
                for source in ("127.0.0.8", "127.0.1.1"):
                    self.assertEqual(exchange(server, REQUEST, source=source,
                                              preface=header), b"", source)
                with open(calls) as f:
                    self.assertEqual(len(f.readlines()), before)
        finally:
            os.unlink(calls)

    def test_bad_entry_stops_the_start_by_name(self):
        for flag in ("--proxy-allow-from", "--forwarded-allow-ips"):
            for bad in ("10.0.0.0/33", "10.0.0.1/8", "10.0.0.300"):
                out = subprocess.run(
                    [harness.WSGID, "-b", "127.0.0.1:%d" % harness.free_port(), "--ops-bind",
                     "off", "--control-socket", "off", "--chdir", harness.EXAMPLES, flag,
                     "127.0.0.1," + bad, "hello:app"],
                    capture_output=True, text=True, timeout=20)
                self.assertEqual(out.returncode, 2, (flag, bad, out.stderr))
                self.assertIn(flag, out.stderr)
                self.assertIn("'%s'" % bad, out.stderr)


class ProxyThenTlsTest(unittest.TestCase):
    def test_proxy_header_then_handshake(self):
        pki = Pki()
        try:
            with TlsServer("environ_echo:app", "--proxy-protocol", "--certfile",
                                pki.cert, "--keyfile", pki.key) as server:
                out = exchange(server, REQUEST, tls_ctx=pki.client_context(),
                               preface=b"PROXY TCP6 2001:db8::5 ::1 6000 443\r\n")
                env = echoed_environ(out)
                self.assertEqual(env["REMOTE_ADDR"], "2001:db8::5")
                self.assertEqual(env["wsgi.url_scheme"], "https")
        finally:
            pki.remove()


class HaproxyTest(unittest.TestCase):
    def test_send_proxy_v1_and_v2(self):
        haproxy = harness.require_tool("haproxy", "apt-get install haproxy")
        p1, p2 = harness.free_port(), harness.free_port()
        with TlsServer("environ_echo:app", "--proxy-protocol") as server:
            cfg = tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False)
            cfg.write("""defaults
  mode tcp
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend v1
  bind 127.0.0.1:%d
  default_backend b1
frontend v2
  bind 127.0.0.1:%d
  default_backend b2
backend b1
  server s 127.0.0.1:%d send-proxy
backend b2
  server s 127.0.0.1:%d send-proxy-v2
""" % (p1, p2, server.port, server.port))
            cfg.close()
            proc = subprocess.Popen([haproxy or "haproxy", "-db", "-f", cfg.name],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                for port in (p1, p2):
                    self.assertTrue(harness.wait_for_port("127.0.0.1", port, 10, proc))
                    raw = socket.create_connection(("127.0.0.1", port), 10,
                                                   ("127.0.0.5", 0))
                    client_port = raw.getsockname()[1]
                    raw.sendall(REQUEST)
                    out = read_to_eof(raw)
                    raw.close()
                    env = echoed_environ(out)
                    self.assertEqual(env["REMOTE_ADDR"], "127.0.0.5")
                    self.assertEqual(env["REMOTE_PORT"], str(client_port))
                # A PROXY header straight from a peer --proxy-allow-from does not list.
                self.assertEqual(exchange(server, REQUEST, source="127.0.0.9",
                                          preface=proxy_v2("10.0.0.1", 1)), b"")
            finally:
                proc.terminate()
                proc.wait(10)
                os.unlink(cfg.name)


if __name__ == "__main__":
    unittest.main()
