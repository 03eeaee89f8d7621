"""HTTP/1.1 requests written by hand over raw sockets, each a pitfall of header injection
(propagation-headers.test.ts): keep-alive without TCP_NODELAY, a body holding a request line, an
`Expect: 100-continue` upload whose body starts with a request line, pipelining, and 4 MiB uploads
(plain, chunked with chunk data that starts like a request, non-blocking with partial writes).
Prints one JSON line per request: its path, length and SHA-256 as sent, and the round trip in ms.
Usage: hdr_client.py HOST PORT
"""
import hashlib
import json
import select
import socket
import sys
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
REQ_LINE = b"GET / HTTP/1.1\r\n"


def record(path, raw, ms=None, note=None):
    print(json.dumps({"path": path, "len": len(raw), "sha256": hashlib.sha256(raw).hexdigest(), "ms": ms, "note": note}), flush=True)


def dial():
    return socket.create_connection((HOST, PORT))


def read_response(s, buf=b""):
    """one response (Content-Length bodies); returns (status line, rest of the buffer)"""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("connection closed before a response")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        rest += s.recv(65536)
    return head.split(b"\r\n")[0], rest[n:]


def get(path, extra=b""):
    return b"GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hdr-client\r\n%s\r\n" % (path.encode(), HOST.encode(), extra)


# keep-alive: five requests on one connection, Nagle on (no TCP_NODELAY)
s = dial()
for i in range(5):
    req = get("/ka/%d" % i)
    t0 = time.monotonic()
    s.sendall(req)
    read_response(s)
    record("/ka/%d" % i, req, (time.monotonic() - t0) * 1e3)
# a request that already carries a traceparent, and one with a tracestate only
req = get("/has-tp", b"traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n")
s.sendall(req)
read_response(s)
record("/has-tp", req, note="present")
req = get("/has-ts", b"tracestate: vendor=1\r\n")
s.sendall(req)
read_response(s)
record("/has-ts", req)
# a body that holds a request line, in the same write as its head
body = REQ_LINE + b"Host: evil\r\n\r\n"
req = b"POST /body-get HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(body) + body
s.sendall(req)
read_response(s)
record("/body-get", req)
# Expect: 100-continue, then a body that starts with a request line (written after a response arrived)
body = REQ_LINE + b"Host: evil\r\n\r\n" + b"x" * 100
head = b"POST /continue HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
s.sendall(head)
status, rest = read_response(s)
assert status.startswith(b"HTTP/1.1 100"), status
s.sendall(body)
read_response(s, rest)
record("/continue", head + body, note="continue")
# pipelining: two requests in one write, a third in its own, then the three answers
p1, p2, p3 = get("/pipe/1"), get("/pipe/2"), get("/pipe/3")
s.sendall(p1 + p2)
s.sendall(p3)
rest = b""
for _ in range(3):
    _, rest = read_response(s, rest)
record("/pipe/1", p1, note="pipelined-first")
record("/pipe/2", p2, note="pipelined")
record("/pipe/3", p3, note="pipelined")
s.close()

BIG = 4 << 20


def big_body():
    # a request line at every 64 KiB, so that a chunk boundary of the kernel's lands on one
    block = REQ_LINE + b"b" * (65536 - len(REQ_LINE))
    return block * (BIG // 65536)


# 4 MiB, blocking, one sendall; then a request on the same connection
body = big_body()
req = b"POST /big-plain HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(body) + body
s = dial()
t0 = time.monotonic()
s.sendall(req)
read_response(s)
record("/big-plain", req, (time.monotonic() - t0) * 1e3)
req = get("/after-big")
s.sendall(req)
read_response(s)
record("/after-big", req, note="after-big")
s.close()

# 4 MiB chunked, blocking: each chunk's size line, data (starting with a request line) and CRLF in their own writes
s = dial()
head = b"POST /big-chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
sent = [head]
s.sendall(head)
block = REQ_LINE + b"c" * (65536 - len(REQ_LINE))
for _ in range(BIG // 65536):
    for part in (b"%x\r\n" % len(block), block, b"\r\n"):
        s.sendall(part)
        sent.append(part)
s.sendall(b"0\r\n\r\n")
sent.append(b"0\r\n\r\n")
read_response(s)
record("/big-chunked", b"".join(sent))
s.close()

# 4 MiB non-blocking: partial writes until all is sent, then a blocking read of the answer
body = big_body()
req = b"POST /big-nonblocking HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(body) + body
s = dial()
s.setblocking(False)
view = memoryview(req)
partial = 0
while view:
    select.select([], [s], [])
    try:
        n = s.send(view)
    except BlockingIOError:
        continue
    if n < len(view):
        partial += 1
    view = view[n:]
s.setblocking(True)
read_response(s)
record("/big-nonblocking", req, note="partial writes: %d" % partial)
s.close()
print("done", flush=True)
