"""A thread-per-request HTTP hop for the correlation tests (docs/devdocs/correlation.md).

usage: hop.py PORT [NEXT_URL_PREFIX]
GET /x: with NEXT_URL_PREFIX, calls NEXT_URL_PREFIX + /x with urllib on the handling thread (with
HOP_SPAWN=1: on a thread the handler creates and joins) and answers with what it got; without,
answers "leaf /x". Prints "listening" once bound.
"""
import os
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
NEXT = sys.argv[2] if len(sys.argv) > 2 else None
SPAWN = os.environ.get("HOP_SPAWN") == "1"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if NEXT is not None:
            got = []

            def call():
                with urllib.request.urlopen(NEXT + self.path, timeout=20) as r:
                    got.append(r.read())

            if SPAWN:
                t = threading.Thread(target=call)
                t.start()
                t.join()
            else:
                call()
            body = got[0]
        else:
            body = ("leaf " + self.path).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer.request_queue_size = 128  # the default backlog (5) drops SYNs under 50 concurrent requests
server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
print("listening", flush=True)
server.serve_forever()
