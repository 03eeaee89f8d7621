"""An uninstrumented HTTP/1.1 server that records what arrives, byte for byte (propagation-headers.test.ts).

Reads requests off raw sockets (Content-Length or chunked bodies, keep-alive, pipelining, `Expect:
100-continue`), and prints one JSON line per request: its path, the traceparent and tracestate it
carried, its length and the SHA-256 of its exact bytes (head and body, framing included), and the
SHA-256 without a traceparent line right after the request line (where injection puts it). Answers
each request in one write, with TCP_NODELAY, so that no wait is the server's.
Usage: recorder.py PORT [HOST]
"""
import hashlib
import json
import socket
import sys
import threading


def lines_of(head):
    return head.split(b"\r\n")


def handle(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""

    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = conn.recv(1 << 20)
            if not chunk:
                raise EOFError
            buf += chunk

    def until(marker, start=0):
        nonlocal buf
        while True:
            i = buf.find(marker, start)
            if i >= 0:
                return i
            start = max(start, len(buf) - len(marker))
            chunk = conn.recv(1 << 20)
            if not chunk:
                raise EOFError
            buf += chunk

    try:
        while True:
            end = until(b"\r\n\r\n")
            head = buf[: end + 4]
            fields = {}
            for line in lines_of(head[:-4])[1:]:
                name, _, value = line.partition(b":")
                fields.setdefault(name.strip().lower().decode(), []).append(value.strip().decode())
            request_line = lines_of(head)[0].decode()
            path = request_line.split(" ")[1]
            at = len(head)
            if fields.get("expect", [""])[0].lower() == "100-continue":
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if "chunked" in fields.get("transfer-encoding", [""])[0].lower():
                while True:
                    eol = until(b"\r\n", at)
                    size = int(buf[at:eol].split(b";")[0], 16)
                    need(eol + 2 + size + 2)
                    at = eol + 2 + size + 2
                    if size == 0:
                        break
            else:
                n = int(fields.get("content-length", ["0"])[0])
                need(at + n)
                at += n
            raw = buf[:at]
            buf = buf[at:]
            # the raw bytes without an injected line (the one right after the request line)
            first = head.index(b"\r\n") + 2
            injected = head[first:first + 13] == b"traceparent: " and head[first + 68:first + 70] == b"\r\n"
            without = raw[:first] + raw[first + 70:] if injected else raw
            record = {
                "path": path,
                "traceparent": fields.get("traceparent", [None])[0],
                "traceparents": len(fields.get("traceparent", [])),
                "tracestate": fields.get("tracestate", [None])[0],
                "len": len(raw),
                "sha256": hashlib.sha256(raw).hexdigest(),
                "after_request_line": injected,
                "sha256_without": hashlib.sha256(without).hexdigest(),
            }
            print(json.dumps(record), flush=True)
            body = json.dumps({"traceparent": record["traceparent"], "len": len(raw)}).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    except (EOFError, ConnectionError):
        pass
    finally:
        conn.close()


def main():
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    srv = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(sys.argv[1])))
    srv.listen(128)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


main()
