/**
 * HTTP/2 + gRPC parse: ns per unary RPC, replaying real grpc-js traffic. The traffic is recorded
 * first, in this process: a @grpc/grpc-js server and client (one unary method, 64 B messages, 32
 * calls in flight on one connection, as the `make bench` gRPC row) talk through a loopback relay
 * that keeps each chunk of each direction as read. The chunks are then fed, in their recorded
 * order, to a fresh ProtocolSession on the HTTP/2 parser per round.
 * Run: node bench/protocols/http2.bench.ts [calls]   (profile: node --cpu-prof bench/protocols/http2.bench.ts)
 */
import * as grpc from '@grpc/grpc-js';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { ProtocolSession } from '../../src/protocols/common/session.ts';
import { createHttp2Parser } from '../../src/protocols/http2/index.ts';
import type { MessageType } from '../../src/protocols/common/contract.ts';

const calls = Number(process.argv[2] ?? 5000);
const id = (b: Buffer): Buffer => b;
const def = { echo: { path: '/bench.Echo/Unary', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } };

async function record(): Promise<{ type: MessageType; data: Buffer }[]> {
  const server = new grpc.Server();
  server.addService(def, { echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const chunks: { type: MessageType; data: Buffer }[] = [];
  const relay = createServer((down: Socket) => {
    const up = connect(port, '127.0.0.1');
    down.on('data', (d: Buffer) => (chunks.push({ type: 'request', data: Buffer.from(d) }), up.write(d)));
    up.on('data', (d: Buffer) => (chunks.push({ type: 'response', data: Buffer.from(d) }), down.write(d)));
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  await new Promise<void>((res) => relay.listen(0, '127.0.0.1', res));
  const Client = grpc.makeGenericClientConstructor(def, 'Echo');
  const client = new Client(`127.0.0.1:${(relay.address() as AddressInfo).port}`, grpc.credentials.createInsecure()) as unknown as { echo(b: Buffer, cb: (e: Error | null) => void): void; close(): void };
  const payload = Buffer.alloc(64, 0x61);
  let left = calls;
  const worker = async (): Promise<void> => {
    while (left-- > 0) await new Promise<void>((res, rej) => client.echo(payload, (e) => (e ? rej(e) : res())));
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  client.close();
  server.forceShutdown();
  relay.close();
  return chunks;
}

function replay(chunks: readonly { type: MessageType; data: Buffer }[]): number {
  const s = new ProtocolSession(createHttp2Parser() as never);
  let ts = 1;
  let n = 0;
  for (const c of chunks) n += s.feed(c.type, c.data, c.data.length, ts++).length;
  return n;
}

const chunks = await record();
const bytes = chunks.reduce((a, c) => a + c.data.length, 0);
replay(chunks); // warm-up
const rounds: number[] = [];
for (let r = 0; r < 7; r++) {
  const t0 = performance.now();
  const got = replay(chunks);
  const dt = performance.now() - t0;
  if (got !== calls) throw new Error(`expected ${calls} RPC records, got ${got}`);
  rounds.push((dt * 1e6) / calls);
}
rounds.sort((a, b) => a - b);
console.log(
  `http2 gRPC unary (grpc-js, 64 B, 32 in flight; ${chunks.length} chunks, ${(bytes / calls).toFixed(0)} B per call): median ${rounds[3].toFixed(0)} ns/RPC (min ${rounds[0].toFixed(0)}, max ${rounds[6].toFixed(0)}; ${calls} calls x 7)`,
);
