#!/usr/bin/python3
"""TLS benchmark (issue 17): hello world over HTTPS, side by side in one run, against wsgid,
nginx (TLS `return 200`, the ceiling), Gunicorn gthread --certfile and uWSGI
--https-socket, each
with 2 processes. Two loads per server, both from this machine's loopback:

- keep-alive: h2load --h1 -c 32 -t 2 over TLS (requests/s);
- handshakes: wrk -c 32 -t 2 with `Connection: close`, so every request is a new TCP
  connection and a TLS handshake (handshakes/s). wrk offers each new connection the
  session its previous one got: TLS 1.3 resumption (PSK with ECDHE, no certificate
  signature) where the server gives every resumed connection a fresh ticket, a full
  handshake every other connection where it does not. The notes column says which
  (`resumed a/b`: of b chained TLS 1.3 connections after the first, a resumed).

    /usr/bin/python3 tests/bench/tls_bench.py [--seconds 8] [--rounds 3] [--bin-dir build/bin]

All servers run at once and take turns under each load, --rounds times; the table
gives the medians and the ratios wsgid/x. The certificate is a P-256 ECDSA one made
with the openssl CLI. Not a test: numbers depend on the machine and its load."""
import argparse
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "examples")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(d):
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost"], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def nginx_conf(d, port, cert, key):
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write("""worker_processes 2; daemon off; pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000000;
  client_body_temp_path %(d)s/cb; proxy_temp_path %(d)s/p; fastcgi_temp_path %(d)s/f;
  uwsgi_temp_path %(d)s/u; scgi_temp_path %(d)s/s;
  ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:SSL:10m;
  server { listen 127.0.0.1:%(port)d ssl; ssl_certificate %(cert)s; ssl_certificate_key %(key)s;
    location / { default_type text/plain; return 200 "Hello, World!"; } } }
""" % {"d": d, "port": port, "cert": cert, "key": key})
    return path


def commands(name, port, cert, key, d, bin_dir):
    if name == "wsgid":
        return [os.path.join(bin_dir, "wsgid"), "-b", "127.0.0.1:%d" % port, "-w", "2",
                "--threads", "1", "--certfile", cert, "--keyfile", key, "--ops-bind", "off",
                "--control-socket", "off", "--chdir", EXAMPLES, "hello:app"], signal.SIGTERM
    if name == "nginx":
        return ["nginx", "-p", d, "-c", nginx_conf(d, port, cert, key), "-e",
                os.path.join(d, "error.log")], signal.SIGQUIT
    if name == "gunicorn-gthread":
        return ["/usr/bin/python3", "-m", "gunicorn", "-b", "127.0.0.1:%d" % port, "-w", "2",
                "-k", "gthread", "--threads", "4", "--certfile", cert, "--keyfile", key,
                "--chdir", EXAMPLES, "hello:app"], signal.SIGTERM
    if name == "uwsgi":
        # --https-socket: TLS served by the workers themselves (as the plain benchmark's
        # --http11-socket); `--https` is the http router, a proxy process in front.
        return ["uwsgi", "--plugin", "python3", "--https-socket",
                "127.0.0.1:%d,%s,%s" % (port, cert, key), "--master", "--processes", "2",
                "--threads", "16", "--need-app",
                "--disable-logging", "--die-on-term", "--chdir", EXAMPLES, "--module",
                "hello:app"], signal.SIGINT
    raise ValueError(name)


def wait_https(port, timeout=30):
    ctx = ssl._create_unverified_context()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 1) as raw:
                with ctx.wrap_socket(raw) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if b"Hello" in s.recv(4096) + s.recv(4096):
                        return True
        except OSError:
            time.sleep(0.2)
    return False


def chained_resumption(port, connections=5):
    """How many of `connections` TLS 1.3 connections, each offering the session the
    previous one got (as wrk does), were resumed."""
    ctx = ssl._create_unverified_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    session, resumed = None, 0
    for i in range(connections + 1):
        with socket.create_connection(("127.0.0.1", port), 5) as raw:
            with ctx.wrap_socket(raw, session=session) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                try:
                    while s.recv(4096):  # TLS 1.3 tickets come after the handshake
                        pass
                except OSError:
                    pass
                resumed += i > 0 and s.session_reused
                session = s.session
    return "resumed %d/%d" % (resumed, connections)


def h2load(port, seconds):
    out = subprocess.run(["h2load", "--h1", "-c", "32", "-t", "2", "-D", str(seconds),
                          "https://127.0.0.1:%d/" % port], capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    rps = re.search(r"finished in .*?, ([\d.]+) req/s", out)
    ok = re.search(r"(\d+) succeeded, (\d+) failed, (\d+) errored", out)
    return float(rps.group(1)) if rps else 0.0, ok.group(0) if ok else out[-200:]


def handshakes(port, seconds):
    out = subprocess.run(["wrk", "-c", "32", "-t", "2", "-d", "%ds" % seconds, "--timeout",
                          "5s", "-H", "Connection: close", "https://127.0.0.1:%d/" % port],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Socket errors:.*|Non-2xx.*", out)
    return float(rps.group(1)) if rps else 0.0, errors.group(0) if errors else "no errors"


def start(name, cert, key, d, bin_dir):
    """Starts one server; (process, port, stop signal), or None (reported)."""
    port = free_port()
    cmd, stop = commands(name, port, cert, key, d, bin_dir)
    log = open(os.path.join(d, name + ".log"), "wb")
    try:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    except FileNotFoundError:
        print("%s is not installed: %s" % (name, cmd[0]), file=sys.stderr)
        return None
    if not wait_https(port):
        print("%s did not start: %s" % (name, " ".join(cmd)), file=sys.stderr)
        stop_server(proc, stop)
        return None
    return proc, port, stop


def stop_server(proc, stop):
    proc.send_signal(stop)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def measure(servers, opts):
    """Every load on every server, round after round (servers taking turns, so load
    from elsewhere on the machine falls on all of them alike); the median of each."""
    samples = {name: ([], []) for name in servers}
    for name, (_, port, _) in servers.items():
        h2load(port, 2)  # warm-up
    for _ in range(opts.rounds):
        for name, (_, port, _) in servers.items():
            samples[name][0].append(h2load(port, opts.seconds))
            samples[name][1].append(handshakes(port, opts.seconds))
    median = lambda runs: sorted(runs)[len(runs) // 2]
    return {name: (median(ka), median(hs)) for name, (ka, hs) in samples.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=int, default=8)
    p.add_argument("--rounds", type=int, default=1,
                   help="measure each server this many times, in turns; report medians")
    p.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    p.add_argument("--servers", default="wsgid,nginx,gunicorn-gthread,uwsgi")
    opts = p.parse_args()
    d = tempfile.mkdtemp(prefix="wsgid-tls-bench-")
    cert, key = make_cert(d)
    servers, resumption = {}, {}
    try:
        for name in opts.servers.split(","):
            started = start(name, cert, key, d, opts.bin_dir)
            if started:
                servers[name] = started
                resumption[name] = chained_resumption(started[1])
        results = measure(servers, opts)
    finally:
        for proc, _, stop in servers.values():
            stop_server(proc, stop)
    print("| server | keep-alive req/s (h2load, 32 clients) | wsgid/x | new connection "
          "per request: handshakes/s (wrk) | wsgid/x | notes |")
    print("|---|---|---|---|---|---|")
    base = results.get("wsgid")
    for name, ((ka, ka_note), (hs, hs_note)) in results.items():
        r1 = "%.2f" % (base[0][0] / ka) if base and ka else "n/a"
        r2 = "%.2f" % (base[1][0] / hs) if base and hs else "n/a"
        print("| %s | %.0f | %s | %.0f | %s | %s; %s; %s |" % (
            name, ka, r1, hs, r2, ka_note, hs_note, resumption[name]))
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
