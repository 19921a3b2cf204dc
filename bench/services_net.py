"""Network half of bench/services.sh, run inside the node's network namespace:
  services_net.py serve HOST PORT         echo (PORT) and sink (PORT+1) servers
  services_net.py client HOST PORT SINKHOST SINKPORT
prints one JSON line: request/response latency over one connection (1-byte ping-pong), new
connections per second (connect, 1-byte exchange, close) and one-connection throughput."""

import json
import socket
import socketserver
import sys
import threading
import time

RR = 5000
CONNS = 1000
STREAM = 512 << 20
CHUNK = 256 << 10


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            b = s.recv(65536)
            if not b:
                return
            s.sendall(b)


class Sink(socketserver.BaseRequestHandler):
    def handle(self):
        total = 0
        while True:
            b = self.request.recv(1 << 20)
            if not b:
                break
            total += len(b)
        self.request.sendall(str(total).encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(host, port):
    a = Server((host, port), Echo)
    b = Server((host, port + 1), Sink)
    threading.Thread(target=b.serve_forever, daemon=True).start()
    print("ready", flush=True)
    a.serve_forever()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def client(host, port, sink_host, sink_port):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(200):  # warm-up
        s.sendall(b"x")
        s.recv(1)
    lat = []
    for _ in range(RR):
        t = time.perf_counter()
        s.sendall(b"x")
        s.recv(1)
        lat.append(time.perf_counter() - t)
    s.close()
    t0 = time.perf_counter()
    for _ in range(CONNS):
        c = socket.create_connection((host, port), timeout=10)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sendall(b"x")
        c.recv(1)
        c.close()
    conn_s = CONNS / (time.perf_counter() - t0)
    buf = b"\0" * CHUNK
    c = socket.create_connection((sink_host, sink_port), timeout=30)
    t0 = time.perf_counter()
    sent = 0
    while sent < STREAM:
        c.sendall(buf)
        sent += len(buf)
    c.shutdown(socket.SHUT_WR)
    got = int(c.recv(64))
    secs = time.perf_counter() - t0
    c.close()
    assert got == sent
    print(json.dumps({"rr_mean_us": round(sum(lat) / len(lat) * 1e6, 1),
                      "rr_p99_us": round(pct(lat, 0.99) * 1e6, 1),
                      "conn_per_s": round(conn_s), "mb_per_s": round(sent / secs / 1e6)}))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
