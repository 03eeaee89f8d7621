"""Python grpcio client for propagation-headers.test.ts: N unary calls of /test.Svc/Unary with the
request "traceparent" over one channel (raw bytes, no protobuf); prints the answers (the traceparent
the grpc-js server read from each call's metadata), one per line.
Usage: grpc_tp_client.py HOST:PORT N
"""
import sys

import grpc

target, n = sys.argv[1], int(sys.argv[2])
with grpc.insecure_channel(target) as ch:
    call = ch.unary_unary("/test.Svc/Unary", request_serializer=None, response_deserializer=None)
    for _ in range(n):
        print(call(b"traceparent", timeout=10).decode(), flush=True)
