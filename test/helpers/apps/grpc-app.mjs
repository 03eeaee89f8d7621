// A gRPC server and client on @grpc/grpc-js, for the HTTP/2 integration tests. Messages are raw
// bytes (no protobuf): the service is defined with identity serializers.
//   node grpc-app.mjs server <port> [<cert> <key>]
//   node grpc-app.mjs client <host:port> <scenario> [<ca>]   scenario: kinds | many | big | repeat
// The client prints one JSON line with what it observed.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

const id = (b) => b;
const m = (path, requestStream, responseStream) => ({ path, requestStream, responseStream, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id });
export const SERVICE = {
  unary: m('/test.Svc/Unary', false, false),
  serverStream: m('/test.Svc/ServerStream', false, true),
  clientStream: m('/test.Svc/ClientStream', true, false),
  bidi: m('/test.Svc/Bidi', true, true),
  slow: m('/test.Svc/Slow', false, false),
  big: m('/test.Svc/Big', false, false),
};

const [mode, where, arg3, arg4] = process.argv.slice(2);

if (mode === 'server') {
  const server = new grpc.Server();
  server.addService(SERVICE, {
    unary: (call, cb) => {
      const req = call.request.toString();
      if (req === 'missing') return cb({ code: grpc.status.NOT_FOUND, details: 'no such key' });
      // propagation-headers.test.ts: the traceparent the call's metadata carried
      if (req === 'traceparent') return cb(null, Buffer.from(String(call.metadata.get('traceparent')[0] ?? 'none')));
      cb(null, Buffer.concat([Buffer.from('echo:'), call.request]));
    },
    serverStream: (call) => {
      const n = Number(call.request.toString());
      for (let i = 0; i < n; i++) call.write(Buffer.from(`item-${i}`));
      call.end();
    },
    clientStream: (call, cb) => {
      let n = 0;
      call.on('data', () => n++);
      call.on('end', () => cb(null, Buffer.from(String(n))));
    },
    bidi: (call) => {
      call.on('data', (d) => call.write(Buffer.concat([Buffer.from('re:'), d])));
      call.on('end', () => call.end());
    },
    slow: (call, cb) => setTimeout(() => cb(null, Buffer.from('late')), 600),
    big: (call, cb) => cb(null, Buffer.alloc(Number(call.request.toString()), 0x62)),
  });
  const creds = arg3 ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(arg3), private_key: readFileSync(arg4) }], false) : grpc.ServerCredentials.createInsecure();
  server.bindAsync(`127.0.0.1:${where}`, creds, (err) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    console.log('listening');
  });
  process.on('SIGTERM', () => server.forceShutdown());
} else {
  const creds = arg4 ? grpc.credentials.createSsl(readFileSync(arg4)) : grpc.credentials.createInsecure();
  const Client = grpc.makeGenericClientConstructor(SERVICE, 'Svc');
  const client = new Client(where, creds, arg4 ? { 'grpc.ssl_target_name_override': 'localhost' } : {});
  const unary = (msg, opts = {}) =>
    new Promise((resolve) => client.unary(Buffer.from(msg), new grpc.Metadata(), opts, (err, res) => resolve(err ? { code: err.code } : { code: 0, res: res.toString() })));
  const out = {};
  if (arg3 === 'kinds') {
    out.ok = await unary('ping');
    out.missing = await unary('missing');
    out.serverStream = await new Promise((resolve) => {
      let n = 0;
      const st = client.serverStream(Buffer.from('100'));
      st.on('data', () => n++);
      st.on('end', () => resolve(n));
      st.on('error', (e) => resolve(`error ${e.code}`));
    });
    out.clientStream = await new Promise((resolve) => {
      const st = client.clientStream((err, res) => resolve(err ? `error ${err.code}` : res.toString()));
      for (let i = 0; i < 5; i++) st.write(Buffer.from(`part-${i}`));
      st.end();
    });
    out.bidi = await new Promise((resolve) => {
      let n = 0;
      const st = client.bidi();
      st.on('data', () => n++);
      st.on('end', () => resolve(n));
      st.on('error', (e) => resolve(`error ${e.code}`));
      for (let i = 0; i < 4; i++) st.write(Buffer.from(`b${i}`));
      st.end();
    });
    out.slow = await new Promise((resolve) => client.slow(Buffer.from('x'), { deadline: Date.now() + 150 }, (err) => resolve(err ? err.code : 0)));
  } else if (arg3 === 'many') {
    let ok = 0;
    for (let b = 0; b < 10; b++) {
      const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => unary(`m${b}-${i}`)));
      ok += rs.filter((r) => r.code === 0).length;
    }
    out.ok = ok;
  } else if (arg3 === 'big') {
    out.big = await new Promise((resolve) => client.big(Buffer.from(String(1 << 20)), (err, res) => resolve(err ? `error ${err.code}` : res.length)));
    out.after = await unary('after-big');
  } else if (arg3 === 'repeat') {
    // a connection opened and used before the agent starts, then used again (stdin lines drive it)
    out.before = await unary('before');
    console.log(JSON.stringify({ ready: true }));
    await new Promise((resolve) => process.stdin.once('data', resolve));
    out.again = await unary('before'); // the same method and message: its headers are old table entries
    out.other = await new Promise((resolve) => {
      let n = 0;
      const st = client.serverStream(Buffer.from('3'));
      st.on('data', () => n++);
      st.on('end', () => resolve(n));
    });
    out.again2 = await unary('x');
  }
  client.close();
  console.log(JSON.stringify(out));
}
