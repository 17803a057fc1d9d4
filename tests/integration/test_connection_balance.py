"""Keep-alive connections follow the pool: when a worker is added, the worker holding
more than its share ends the surplus connections with "Connection: close" on a response,
the clients reconnect, and the new worker gets its part of their traffic. No request is
lost on the way, and a pool that is already even closes nothing.

Clients are http.client keep-alive connections on loopback, each in its own thread,
bounded in time."""
import http.client
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class KeepAliveClients:
    """`count` threads, each sending requests on one keep-alive connection, reconnecting
    only when a response says it closes. Counts requests, reconnects and failures."""

    def __init__(self, server, path, count):
        self.server, self.path = server, path
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.requests = self.reconnects = 0
        self.failures = []
        self.threads = [threading.Thread(target=self.run) for _ in range(count)]

    def run(self):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        while not self.stop.is_set():
            try:
                conn.request("GET", self.path)
                response = conn.getresponse()
                response.read()
                with self.lock:
                    self.requests += 1
                    if response.status != 200:
                        self.failures.append(response.status)
                    if response.will_close:
                        self.reconnects += 1
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.failures.append(repr(e))
                conn.close()
        conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(15)


class ConnectionBalanceTest(unittest.TestCase):
    def start(self, workers):
        server = harness.ControlledServer("lifecycle_app:app", workers=workers, threads=4)
        server.start()
        self.addCleanup(server.__exit__, None, None, None)
        self.ctl = server.ctl_json
        return server

    def ready_workers(self):
        return [w for w in self.ctl("workers")["workers"] if w["state"] == "ready"]

    def test_a_new_worker_gets_a_share_of_the_keep_alive_clients(self):
        server = self.start(workers=1)
        with KeepAliveClients(server, "/sleep?s=0.005", 8) as clients:
            self.assertTrue(harness.wait_until(
                lambda: sum(w["connections"] for w in self.ready_workers()) == 8, 10),
                self.ready_workers())
            self.ctl("scale", "2")
            # The old worker holds 8 against a quota of 4 (the even share): it closes
            # the surplus and the clients reconnect, mostly to the new worker.
            def balanced():
                workers = self.ready_workers()
                return len(workers) == 2 and all(w["connections"] >= 3 for w in workers)
            self.assertTrue(harness.wait_until(balanced, 15), self.ready_workers())
            new_worker = max(self.ready_workers(), key=lambda w: w["id"])
            served_before = new_worker["requests"]
            time.sleep(1)
        new_worker = [w for w in self.ready_workers() if w["id"] == new_worker["id"]][0]
        print("\n8 keep-alive clients, 1 -> 2 workers: %d requests, %d reconnects; "
              "connections per worker %s" % (clients.requests, clients.reconnects,
                                             [w["connections"] for w in self.ready_workers()]),
              file=sys.stderr)
        self.assertEqual(clients.failures, [])
        self.assertGreater(new_worker["requests"], served_before)
        self.assertGreaterEqual(clients.reconnects, 3)

    def test_an_even_pool_closes_no_connection(self):
        server = self.start(workers=2)
        with KeepAliveClients(server, "/sleep?s=0.005", 8) as clients:
            # However the kernel spread the 8 connections at first, the pool settles
            # within the quota, and from then on every connection is kept.
            def settled():
                counts = [w["connections"] for w in self.ready_workers()]
                return sum(counts) == 8 and max(counts) <= 4
            self.assertTrue(harness.wait_until(settled, 15), self.ready_workers())
            time.sleep(0.5)  # sheds decided before settling have closed
            with clients.lock:
                before = clients.reconnects, clients.requests
            time.sleep(2)
            with clients.lock:
                after = clients.reconnects, clients.requests
        self.assertEqual(clients.failures, [])
        self.assertGreater(after[1] - before[1], 50)
        self.assertEqual(after[0], before[0], self.ready_workers())


if __name__ == "__main__":
    unittest.main()
