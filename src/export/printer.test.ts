import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceIdentity } from '../common/service.ts';
import { MonoClock } from '../telemetry/clock.ts';
import type { Span } from '../telemetry/span.ts';
import { formatDuration, formatSpanText, spanToJSON, TracePrinter } from './printer.ts';
import type { PrinterTimers } from './printer.ts';

/** monotonic 0 ⇔ 2024-05-01T12:00:00.000000Z (offset exactly 1_714_564_800_000 ms) */
const clock = new MonoClock({ monotonicNs: () => 500_000n, wallMs: () => 1_714_564_800_000 });

const api: ServiceIdentity = { name: 'api', namespace: 'shop', instanceId: 'host1:42', pid: 42, exePath: '/usr/bin/api', language: 'go' };

const serverSpan: Span = {
  protocol: 'http',
  category: 'http',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  parentSpanId: '00f067aa0ba902b7',
  traceFlags: 1,
  name: 'GET /users/:id',
  kind: 'server',
  startNs: 1_123_456_789,
  endNs: 1_135_956_789,
  status: 'unset',
  attributes: {
    'http.request.method': 'GET',
    'http.response.status_code': 200,
    'url.path': '/users/42',
    'url.scheme': 'http',
    'client.address': '10.0.0.1',
    'server.address': '10.0.0.2',
    'server.port': 8080,
    'http.request.body.size': 0,
    'http.response.body.size': 1234,
    'http.route': '/users/:id',
  },
  service: api,
  conn: { pid: 42, tid: 42, role: 'server', localAddr: '10.0.0.2', localPort: 8080, remoteAddr: '10.0.0.1', remotePort: 51000, tls: false },
};

const clientSpan: Span = {
  protocol: 'http',
  category: 'http',
  traceId: '11111111111111111111111111111111',
  spanId: '2222222222222222',
  traceFlags: 0,
  name: 'POST',
  kind: 'client',
  startNs: 2_000_000_000,
  endNs: 2_000_850_000,
  status: 'error',
  attributes: {
    'http.request.method': 'POST',
    'http.response.status_code': 503,
    'url.full': 'http://backend:9090/jobs?token=REDACTED',
    'url.scheme': 'http',
    'server.address': 'backend',
    'server.port': 9090,
    'http.request.body.size': 17,
    'http.response.body.size': 0,
  },
  service: { ...api, namespace: '' },
  conn: { pid: 42, tid: 42, role: 'client', localAddr: '::1', localPort: 40000, remoteAddr: '2001:db8::9', remotePort: 9090, tls: false },
};

const SERVER_LINE =
  '2024-05-01T12:00:01.123456Z (12.5ms) HTTP 200 GET /users/42 route=/users/:id [10.0.0.1:51000 as 10.0.0.1]->[10.0.0.2:8080 as api.shop] contentLen:0B responseLen:1234B svc=[shop/api go] traceparent=[00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331[00f067aa0ba902b7]-01]';
const CLIENT_LINE =
  '2024-05-01T12:00:02.000000Z (850µs) HTTPClient 503 POST http://backend:9090/jobs?token=REDACTED [[::1]:40000 as api]->[[2001:db8::9]:9090 as backend] contentLen:17B responseLen:0B svc=[api go] traceparent=[00-11111111111111111111111111111111-2222222222222222[0000000000000000]-00]';

class Sink {
  writes: string[] = [];
  write(chunk: string): boolean {
    this.writes.push(chunk);
    return true;
  }
}

class ManualTimers implements PrinterTimers {
  fn: (() => void) | undefined;
  ms = 0;
  cleared = false;
  setInterval(fn: () => void, ms: number): unknown {
    this.fn = fn;
    this.ms = ms;
    return 7;
  }
  clearInterval(handle: unknown): void {
    assert.equal(handle, 7);
    this.cleared = true;
  }
  tick(): void {
    this.fn?.();
  }
}

test('formatDuration uses Go notation', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [1, '1ns'],
    [999, '999ns'],
    [1000, '1µs'],
    [1500, '1.5µs'],
    [850_000, '850µs'],
    [12_500_000, '12.5ms'],
    [12_345_678, '12.345678ms'],
    [1_000_000_000, '1s'],
    [1_234_567_891, '1.234567891s'],
    [63_500_000_000, '1m3.5s'],
    [3_723_000_000_000, '1h2m3s'],
    [-1500, '-1.5µs'],
  ];
  for (const [ns, want] of cases) assert.equal(formatDuration(ns), want, String(ns));
});

test('text line of a server and a client span', () => {
  assert.equal(formatSpanText(serverSpan, clock), SERVER_LINE);
  assert.equal(formatSpanText(clientSpan, clock), CLIENT_LINE);
});

test('text mode: one write per batch, one line per span', () => {
  const out = new Sink();
  const p = new TracePrinter('text', { out, clock });
  p.print([serverSpan, clientSpan]);
  p.print([]);
  p.print([clientSpan]);
  assert.deepEqual(out.writes, [`${SERVER_LINE}\n${CLIENT_LINE}\n`, `${CLIENT_LINE}\n`]);
});

test('json mode: one object per line', () => {
  const out = new Sink();
  const p = new TracePrinter('json', { out, clock });
  p.print([serverSpan, clientSpan]);
  assert.equal(out.writes.length, 1);
  const lines = out.writes[0].split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  assert.equal(
    lines[0],
    '{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","parentSpanId":"00f067aa0ba902b7","traceFlags":1,"name":"GET /users/:id","kind":"server","protocol":"http",' +
      '"start":"2024-05-01T12:00:01.123456Z","end":"2024-05-01T12:00:01.135956Z","durationNs":12500000,"status":"unset",' +
      '"attributes":{"http.request.method":"GET","http.response.status_code":200,"url.path":"/users/42","url.scheme":"http","client.address":"10.0.0.1","server.address":"10.0.0.2","server.port":8080,"http.request.body.size":0,"http.response.body.size":1234,"http.route":"/users/:id"},' +
      '"service":{"name":"api","namespace":"shop","instanceId":"host1:42","pid":42,"language":"go"},' +
      '"conn":{"pid":42,"tid":42,"role":"server","localAddr":"10.0.0.2","localPort":8080,"remoteAddr":"10.0.0.1","remotePort":51000,"tls":false}}',
  );
  const client = JSON.parse(lines[1]);
  assert.equal('parentSpanId' in client, false);
  assert.equal(client.status, 'error');
  assert.equal(client.durationNs, 850_000);
});

test('json_indent mode: indented objects, one space', () => {
  const out = new Sink();
  const p = new TracePrinter('json_indent', { out, clock });
  p.print([clientSpan]);
  assert.equal(out.writes.length, 1);
  assert.equal(out.writes[0], JSON.stringify(spanToJSON(clientSpan, clock), null, ' ') + '\n');
  assert.ok(out.writes[0].startsWith('{\n "traceId": "11111111111111111111111111111111",\n "spanId": "2222222222222222",\n'));
});

test('counter mode: prints the total each interval only when it changed, and on close', () => {
  const out = new Sink();
  const timers = new ManualTimers();
  const p = new TracePrinter('counter', { out, timers, intervalMs: 250 });
  assert.equal(timers.ms, 250);
  timers.tick();
  assert.deepEqual(out.writes, []);
  p.print([serverSpan, clientSpan]);
  p.print([serverSpan]);
  timers.tick();
  timers.tick();
  p.print([clientSpan]);
  assert.equal(p.count, 4);
  p.close();
  p.close();
  p.print([clientSpan]);
  assert.equal(timers.cleared, true);
  assert.deepEqual(out.writes, ['Processed 3 requests\n', 'Processed 4 requests\n']);
});

test('disabled mode writes nothing; invalid setups are rejected', () => {
  const out = new Sink();
  const p = new TracePrinter('disabled', { out });
  assert.equal(p.enabled, false);
  p.print([serverSpan]);
  p.flush();
  p.close();
  assert.deepEqual(out.writes, []);
  assert.throws(() => new TracePrinter('text', { out }), RangeError);
  assert.throws(() => new TracePrinter('yaml' as 'text', { out, clock }), RangeError);
  assert.throws(() => new TracePrinter('counter', { out, intervalMs: 0, timers: new ManualTimers() }), RangeError);
  assert.equal(new TracePrinter('json', { out, clock }).enabled, true);
});

test('counter mode with the real timer', async () => {
  const out = new Sink();
  const p = new TracePrinter('counter', { out, intervalMs: 5 });
  p.print([serverSpan]);
  await new Promise((r) => setTimeout(r, 30));
  p.close();
  assert.deepEqual(out.writes, ['Processed 1 requests\n']);
});
