/**
 * Malformed traffic and sensitive data, end to end on the real kernel.
 *
 * - A selected TCP sink (Python; reads everything, never answers) receives, from a separate
 *   Node process, connections carrying random bytes, 20 KB request lines, 9 KB headers,
 *   broken chunked bodies and TLS records on its plaintext port. The agent keeps running, emits
 *   no span for what is not an HTTP exchange (the over-long but well-formed request heads are
 *   requests, reported unanswered with status 0), and its RSS stays bounded.
 * - A real request to a selected Python HTTP server with `Authorization` and `Cookie` headers
 *   and secret-looking query parameters: `url.query` (server) and `url.full` (curl client) are
 *   redacted, and no secret (query value, Authorization or Cookie value) appears anywhere the
 *   agent sends data: the trace printer's output and the Prometheus metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, run, sleep, startProcess, waitFor, waitForPort, type Proc } from '../helpers/harness.ts';

const CONNS_PER_KIND = Number(process.env.OBI_MALFORMED_CONNS ?? 60);

const SINK = `
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(128)
def drain(c):
    try:
        while c.recv(65536):
            pass
    finally:
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
`;

const CLIENT = `
import net from 'node:net';
import { randomBytes } from 'node:crypto';
const [port, n] = process.argv.slice(2).map(Number);
const kinds = {
  random: () => randomBytes(4096),
  longLine: () => Buffer.from('GET /' + 'a'.repeat(20 * 1024) + ' HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'),
  bigHeaders: () => Buffer.from('GET /h HTTP/1.1\\r\\nHost: x\\r\\n' + 'X-Big: ' + 'b'.repeat(9 * 1024) + '\\r\\n\\r\\n'),
  brokenChunked: () => Buffer.from('POST /c HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\nnot hex\\r\\n5\\r\\nabc\\r\\nFFFFFFFFFFFFFFFFFFFF\\r\\n'),
  tlsRecord: () => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), randomBytes(500)]),
};
let total = 0;
for (const [name, make] of Object.entries(kinds)) {
  for (let i = 0; i < n; i++) {
    await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => c.end(make()));
      c.on('close', resolve);
      c.on('error', resolve);
    });
    total++;
  }
}
console.log('sent', total);
`;

describe('malformed traffic and sensitive data', () => {
  let dir: string;
  let sinkPort: number;
  let httpPort: number;
  let sink: Proc;
  let http: Proc;
  let agent: TestAgent;
  const out: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'obi-malformed-'));
    writeFileSync(join(dir, 'sink.py'), SINK);
    writeFileSync(join(dir, 'client.mjs'), CLIENT);
    writeFileSync(join(dir, 'index.html'), 'hello\n');
    [sinkPort, httpPort] = [await freePort(), await freePort()];
    sink = startProcess('python3', [join(dir, 'sink.py'), String(sinkPort)]);
    http = startProcess('python3', ['-m', 'http.server', String(httpPort), '--bind', '127.0.0.1', '--directory', dir]);
    await waitForPort(sinkPort);
    await waitForPort(httpPort);
    const cfg = join(dir, 'obi.yaml');
    writeFileSync(cfg, `discovery:\n  instrument:\n    - open_ports: "${sinkPort},${httpPort}"\n    - exe_path: "*/curl"\n`);
    agent = await TestAgent.start({ OTEL_EBPF_CONFIG_PATH: cfg });
    await agent.waitTracked(sink.pid);
    await agent.waitTracked(http.pid);
  });

  after(async () => {
    await agent?.stop();
    await sink?.kill();
    await http?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
    void out;
  });

  test(`${5 * CONNS_PER_KIND} malformed connections: no span, agent alive, RSS bounded`, async () => {
    const before = process.memoryUsage().rss;
    const r = await run(nodeBin, [join(dir, 'client.mjs'), String(sinkPort), String(CONNS_PER_KIND)]);
    assert.equal(r.trim(), `sent ${5 * CONNS_PER_KIND}`);
    await sleep(500);
    const growthMb = (process.memoryUsage().rss - before) / 2 ** 20;
    const sinkSpans = agent.spans((s) => s.attributes['server.port'] === sinkPort);
    // the 20 KB request line and the 9 KB headers are well-formed requests that the sink never
    // answered: one span each, status 0 (no response); random bytes, TLS records and broken
    // chunked bodies are not HTTP exchanges and give none
    const byKind = (path: string) => sinkSpans.filter((s) => String(s.attributes['url.path']).startsWith(path));
    assert.equal(byKind('/aaaa').length, CONNS_PER_KIND, 'one span per long request line');
    assert.equal(byKind('/h').length, CONNS_PER_KIND, 'one span per request with big headers');
    assert.ok(sinkSpans.every((s) => s.attributes['http.response.status_code'] === 0 && s.name === 'GET /*' || s.name === 'GET /h' || s.name === 'GET'));
    assert.equal(sinkSpans.length, 2 * CONNS_PER_KIND, 'no false span from random bytes, TLS records or broken chunked bodies');
    assert.ok(agent.agent.status().eventsRead > 0, 'the traffic was captured and parsed');
    assert.ok(growthMb < 40, `RSS grew ${growthMb.toFixed(1)} MB`);
    // the agent still works
    await run('curl', ['-sS', '-o', '/dev/null', `http://127.0.0.1:${httpPort}/index.html?after=malformed`]);
    await agent.waitSpans(1, (s) => s.kind === 'server' && s.attributes['url.query'] === 'after=malformed');
  });

  test('secret query values, Authorization and Cookie never leave the host', async () => {
    const secrets = ['hunter2', 'TOKVALUE', 'KEYVALUE', 'SIGVALUE', 'BearerSECRET', 'COOKIESECRET'];
    const url = `http://127.0.0.1:${httpPort}/index.html?user=bob&password=hunter2&access_token=TOKVALUE&apiKey=KEYVALUE&X-Amz-Signature=SIGVALUE&page=2`;
    await run('curl', ['-sS', '-o', '/dev/null', '-H', 'Authorization: Bearer BearerSECRET', '-H', 'Cookie: session=COOKIESECRET', url]);
    const [server] = await agent.waitSpans(1, (s) => s.kind === 'server' && String(s.attributes['url.query']).startsWith('user=bob'));
    assert.equal(server.attributes['url.query'], 'user=bob&password=REDACTED&access_token=REDACTED&apiKey=REDACTED&X-Amz-Signature=REDACTED&page=2');
    const [client] = await agent.waitSpans(1, (s) => s.kind === 'client' && String(s.attributes['url.full']).includes('user=bob'));
    assert.equal(client.attributes['url.full'], `http://127.0.0.1:${httpPort}/index.html?user=bob&password=REDACTED&access_token=REDACTED&apiKey=REDACTED&X-Amz-Signature=REDACTED&page=2`);
    const printed = JSON.stringify(agent.spans());
    const metrics = await agent.metrics();
    for (const s of secrets) {
      assert.ok(!printed.includes(s), `${s} in the spans`);
      assert.ok(!metrics.includes(s), `${s} in the metrics`);
    }
    await waitFor('metrics scraped', () => metrics.length > 0);
  });
});
