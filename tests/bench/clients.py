"""The runner's own HTTP clients: idle keep-alive connections and slow (trickling) clients.

Both live inside the runner process (non-blocking sockets on a selector), so the runner raises
its own open-file soft limit before holding 10,000 connections. Standard library only.
"""
import errno
import selectors
import socket
import threading
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: wsgid-bench\r\n\r\n"


def response_length(buf):
    """None while buf holds no complete HTTP/1.1 response; else (length, status, closes).

    length is the size of the complete response in bytes, or the string "bad" (unparsable
    status line) or "nolength" (no Content-Length: the benchmark apps always send one)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1")
    lines = head.split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return ("bad", 0, True)
    length = None
    closes = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and "close" in value.lower():
            closes = True
    if length is None:
        return ("nolength", status, True)
    total = end + 4 + length
    if len(buf) < total:
        return None
    return (total, status, closes)


class IdleConnections:
    """Opens N keep-alive connections, makes one request on each, then holds them idle.

    A connection counts as held once its response arrived complete. Opening runs at most
    `window` connections in flight (so no server's listen backlog overflows) and stops at
    `deadline_s`, or when nothing progressed for `stall_s` (a server that stops answering);
    connections still waiting then are kept open as they are and counted as unanswered."""

    def __init__(self, port, count, window=64, deadline_s=30.0, stall_s=5.0):
        self.port = port
        self.count = count
        self.window = window
        self.deadline_s = deadline_s
        self.stall_s = stall_s
        self.held = []          # sockets whose request was answered
        self.waiting = []       # sockets still waiting for their answer when opening stopped
        self.stats = {"requested": count}

    def open(self):
        sel = selectors.DefaultSelector()
        t0 = time.monotonic()
        last_progress = t0
        started = failed = refused = bad = closed_early = 0
        in_flight = 0
        stopped_by = "done"
        try:
            while len(self.held) + failed < self.count:
                now = time.monotonic()
                if now - t0 > self.deadline_s:
                    stopped_by = "deadline"
                    break
                if now - last_progress > self.stall_s:
                    stopped_by = "stall"
                    break
                while in_flight < self.window and started < self.count:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.setblocking(False)
                    err = s.connect_ex(("127.0.0.1", self.port))
                    started += 1
                    if err not in (0, errno.EINPROGRESS):
                        s.close()
                        failed += 1
                        refused += 1
                        continue
                    sel.register(s, selectors.EVENT_WRITE, [False, b""])
                    in_flight += 1
                for key, _ in sel.select(0.2):
                    s, state = key.fileobj, key.data
                    if not state[0]:  # connected (or failed): send the request
                        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if err:
                            sel.unregister(s)
                            s.close()
                            in_flight -= 1
                            failed += 1
                            refused += 1
                            last_progress = time.monotonic()
                            continue
                        s.send(REQUEST)
                        state[0] = True
                        sel.modify(s, selectors.EVENT_READ, state)
                        continue
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        sel.unregister(s)
                        s.close()
                        in_flight -= 1
                        failed += 1
                        closed_early += 1
                        last_progress = time.monotonic()
                        continue
                    state[1] += data
                    r = response_length(state[1])
                    if r is None:
                        continue
                    sel.unregister(s)
                    in_flight -= 1
                    last_progress = time.monotonic()
                    if not isinstance(r[0], int) or r[1] != 200 or r[2]:
                        bad += 1
                        failed += 1
                        s.close()
                        continue
                    self.held.append(s)
            for key in list(sel.get_map().values()):
                sel.unregister(key.fileobj)
                self.waiting.append(key.fileobj)
        finally:
            sel.close()
        self.stats.update({
            "held": len(self.held), "unanswered": len(self.waiting), "failed": failed,
            "refused": refused, "closed_before_answer": closed_early, "bad_answer": bad,
            "open_s": round(time.monotonic() - t0, 3), "stopped_by": stopped_by,
        })
        return self.stats

    def check(self):
        """How many held connections the server still keeps open (peek without reading)."""
        still_open = closed = other = 0
        for s in self.held:
            try:
                data = s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                if data:
                    other += 1
                else:
                    closed += 1
            except BlockingIOError:
                still_open += 1
            except OSError:
                closed += 1
        self.stats.update({"still_open_at_end": still_open, "closed_by_server": closed,
                           "unexpected_data": other})
        return self.stats

    def close(self):
        for s in self.held + self.waiting:
            try:
                s.close()
            except OSError:
                pass
        self.held, self.waiting = [], []


class SlowClients(threading.Thread):
    """`count` clients each trickling a GET one byte every `interval` s, forever, on keep-alive.

    Each client sends its request byte by byte, reads the response, then starts the next
    request on the same connection; if the server closes the connection it reconnects. Records
    the requests completed, the time from the last byte sent to the complete response, and how
    often the server closed or reset a connection."""

    def __init__(self, port, count, interval=0.1):
        super().__init__(daemon=True)
        self.port = port
        self.count = count
        self.interval = interval
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.completed = 0
        self.answer_times = []
        self.closed = 0
        self.connect_errors = 0
        self.bad = 0
        self.error = None

    def _connect(self, sel, client):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", self.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            with self.lock:
                self.connect_errors += 1
            client.update(sock=None, next=time.monotonic() + 0.5)
            return
        client.update(sock=s, pos=0, buf=b"", sent_at=None,
                      next=time.monotonic() + self.interval)
        sel.register(s, selectors.EVENT_READ, client)

    def _drop(self, sel, client, closed=True):
        s = client.get("sock")
        if s is not None:
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()
        client["sock"] = None
        client["next"] = time.monotonic() + self.interval
        if closed:
            with self.lock:
                self.closed += 1

    def run(self):
        sel = selectors.DefaultSelector()
        clients = [{"sock": None, "next": 0.0} for _ in range(self.count)]
        try:
            for c in clients:
                self._connect(sel, c)
            while not self.stop_event.is_set():
                now = time.monotonic()
                for c in clients:
                    if c["sock"] is None:
                        if now >= c["next"]:
                            self._connect(sel, c)
                        continue
                    if c["pos"] < len(REQUEST) and now >= c["next"]:
                        try:
                            c["sock"].send(REQUEST[c["pos"]:c["pos"] + 1])
                        except OSError:
                            self._drop(sel, c)
                            continue
                        c["pos"] += 1
                        c["next"] = now + self.interval
                        if c["pos"] == len(REQUEST):
                            c["sent_at"] = now
                wait = min([c["next"] for c in clients] + [now + 0.05]) - time.monotonic()
                for key, _ in sel.select(max(0.0, wait)):
                    c = key.data
                    try:
                        data = c["sock"].recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self._drop(sel, c)
                        continue
                    c["buf"] += data
                    r = response_length(c["buf"])
                    if r is None:
                        continue
                    ok = isinstance(r[0], int) and r[1] == 200 and c["sent_at"] is not None
                    with self.lock:
                        if ok:
                            self.completed += 1
                            self.answer_times.append(time.monotonic() - c["sent_at"])
                        else:
                            self.bad += 1
                    if not ok or r[2]:
                        self._drop(sel, c, closed=False)
                        continue
                    c.update(pos=0, buf=c["buf"][r[0]:], sent_at=None,
                             next=time.monotonic() + self.interval)
        except Exception as e:  # reported in the results, never silently
            self.error = repr(e)
        finally:
            for c in clients:
                if c.get("sock") is not None:
                    c["sock"].close()
            sel.close()

    def stop(self):
        self.stop_event.set()
        self.join(10)
        with self.lock:
            times = sorted(self.answer_times)
        return {
            "slow_clients": self.count, "byte_interval_s": self.interval,
            "request_bytes": len(REQUEST), "completed": self.completed,
            "answer_mean_ms": (sum(times) / len(times) * 1e3) if times else None,
            "answer_max_ms": times[-1] * 1e3 if times else None,
            "closed_by_server": self.closed, "connect_errors": self.connect_errors,
            "bad_answers": self.bad, "error": self.error,
        }
