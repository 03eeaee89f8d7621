"""A thread-per-request HTTP/1.1 service for the propagation test (docs/devdocs/propagation.md).

usage: svc.py PORT [TLS_PORT CERT KEY]
GET /call?n=N&tag=T&to=HOST:PORT[&tls=1]: on the handling thread, makes N GET requests /leaf/T/<i>
to HOST:PORT over ONE keep-alive connection (http.client; with tls=1 over HTTPS, the certificate not
verified), then answers "called N". HOST may be an IPv6 address in brackets. GET /leaf/...: answers
"leaf". Listens on all IPv4 and IPv6 addresses (dual stack), with TLS_PORT also HTTPS (OpenSSL
through Python's ssl module); prints "listening" once bound.
"""
import http.client
import socket
import ssl
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK wait per request

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/call":
            q = urllib.parse.parse_qs(u.query)
            n, tag, to = int(q["n"][0]), q["tag"][0], q["to"][0]
            host, _, port = to.rpartition(":")
            if q.get("tls") == ["1"]:
                ctx = ssl._create_unverified_context()
                conn = http.client.HTTPSConnection(host.strip("[]"), int(port), timeout=30, context=ctx)
            else:
                conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=30)
            for i in range(n):
                conn.request("GET", f"/leaf/{tag}/{i}")
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    raise RuntimeError(f"leaf answered {r.status}")
            conn.close()
            body = f"called {n}".encode()
        else:
            body = b"leaf"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


server = Server(("::", PORT), Handler)
if len(sys.argv) > 4:
    tls = Server(("::", int(sys.argv[2])), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    threading.Thread(target=tls.serve_forever, daemon=True).start()
print("listening", flush=True)
server.serve_forever()
