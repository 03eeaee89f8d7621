"""gRPC server and client on Debian's python3-grpcio, raw-bytes messages (no protobuf), for the
HTTP/2 integration tests: the same service as grpc-app.mjs.
  python3 grpc_app.py server <port>
  python3 grpc_app.py client <host:port>     (prints one JSON line)
"""
import json
import sys
import time
from concurrent import futures

import grpc

SVC = 'test.Svc'


def unary(req, ctx):
    if req == b'missing':
        ctx.abort(grpc.StatusCode.NOT_FOUND, 'no such key')
    return b'echo:' + req


def server_stream(req, ctx):
    for i in range(int(req.decode())):
        yield ('item-%d' % i).encode()


def client_stream(it, ctx):
    return str(sum(1 for _ in it)).encode()


def bidi(it, ctx):
    for m in it:
        yield b're:' + m


def slow(req, ctx):
    time.sleep(0.6)
    return b'late'


def serve(port):
    handlers = {
        'Unary': grpc.unary_unary_rpc_method_handler(unary),
        'ServerStream': grpc.unary_stream_rpc_method_handler(server_stream),
        'ClientStream': grpc.stream_unary_rpc_method_handler(client_stream),
        'Bidi': grpc.stream_stream_rpc_method_handler(bidi),
        'Slow': grpc.unary_unary_rpc_method_handler(slow),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SVC, handlers),))
    server.add_insecure_port('127.0.0.1:%d' % port)
    server.start()
    print('listening', flush=True)
    server.wait_for_termination()


def code(e):
    return e.code().value[0]


def client(target):
    out = {}
    with grpc.insecure_channel(target) as ch:
        u = ch.unary_unary('/test.Svc/Unary')
        out['ok'] = u(b'ping').decode()
        try:
            u(b'missing')
        except grpc.RpcError as e:
            out['missing'] = code(e)
        out['serverStream'] = sum(1 for _ in ch.unary_stream('/test.Svc/ServerStream')(b'100'))
        out['clientStream'] = ch.stream_unary('/test.Svc/ClientStream')(iter([b'part-%d' % i for i in range(5)])).decode()
        out['bidi'] = sum(1 for _ in ch.stream_stream('/test.Svc/Bidi')(iter([b'b%d' % i for i in range(4)])))
        try:
            ch.unary_unary('/test.Svc/Slow')(b'x', timeout=0.15)
        except grpc.RpcError as e:
            out['slow'] = code(e)
    print(json.dumps(out, sort_keys=True), flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        serve(int(sys.argv[2]))
    else:
        client(sys.argv[2])
