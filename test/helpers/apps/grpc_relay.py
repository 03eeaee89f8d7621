"""A gRPC server on Debian's python3-grpcio whose handler makes an HTTP/1 call (urllib) to a
downstream service, and its client, raw-bytes messages (no protobuf), for the correlation tests:
  python3 grpc_relay.py server <port> <downstream-url>   prints "listening"; each call to
      /test.Relay/Call GETs <downstream-url>?id=<request> and answers "<status> <handler tid>"
  python3 grpc_relay.py client <host:port> <n>          n calls one after the other, then 4 at
      once; prints one JSON line: the answers' statuses and the handler threads seen
"""
import json
import sys
import threading
import urllib.request
from concurrent import futures

import grpc


def serve(port, downstream):
    def call(req, ctx):
        with urllib.request.urlopen('%s?id=%s' % (downstream, req.decode())) as r:
            r.read()
            return ('%d %d' % (r.status, threading.get_native_id())).encode()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {'Call': grpc.unary_unary_rpc_method_handler(call)}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler('test.Relay', handlers),))
    server.add_insecure_port('127.0.0.1:%d' % port)
    server.start()
    print('listening', flush=True)
    server.wait_for_termination()


def client(target, n):
    answers = []
    with grpc.insecure_channel(target) as ch:
        c = ch.unary_unary('/test.Relay/Call')
        for i in range(n):
            answers.append(c(b's%d' % i).decode())
        with futures.ThreadPoolExecutor(max_workers=4) as pool:
            answers += [a.decode() for a in pool.map(lambda i: c(b'c%d' % i), range(4))]
    print(json.dumps({'statuses': sorted({a.split()[0] for a in answers}), 'calls': len(answers), 'tids': sorted({int(a.split()[1]) for a in answers})}), flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        client(sys.argv[2], int(sys.argv[3]))
