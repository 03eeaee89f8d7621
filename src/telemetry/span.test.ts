import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceIdentity } from '../common/service.ts';
import type { HttpRecord } from '../protocols/common/records.ts';
import type { IdSource } from './ids.ts';
import { createQueryRedactor } from './redact.ts';
import { hostHeaderName, httpSpan } from './span.ts';
import type { ConnInfo } from '../common/conn.ts';
import type { RouteResolver } from './types.ts';

const T = '0af7651916cd43dd8448eb211c80319c';
const P = 'b7ad6b7169203331';

/** deterministic ids: trace-1…, span-1… as valid hex */
function seqIds(): IdSource {
  let t = 0;
  let s = 0;
  return {
    traceId: () => (++t).toString(16).padStart(32, 'a'),
    spanId: () => (++s).toString(16).padStart(16, 'b'),
  };
}

const service: ServiceIdentity = { name: 'api', namespace: 'shop', instanceId: 'host1:42', pid: 42, exePath: '/usr/bin/api', language: 'go' };

const serverConn: ConnInfo = { pid: 42, tid: 43, role: 'server', localAddr: '10.0.0.2', localPort: 8080, remoteAddr: '10.0.0.1', remotePort: 51000, tls: false };
const clientConn: ConnInfo = { pid: 42, tid: 43, role: 'client', localAddr: '10.0.0.2', localPort: 40000, remoteAddr: '10.0.0.9', remotePort: 9090, tls: false };

function exchange(over: Partial<HttpRecord> = {}): HttpRecord {
  return {
    category: 'http',
    method: 'GET',
    target: '/users/42',
    path: '/users/42',
    status: 200,
    requestBodySize: 0,
    responseBodySize: 1234,
    startNs: 5_000_000_000,
    endNs: 5_012_500_000,
    ...over,
  };
}

const routeUsers: RouteResolver = (path) => (path.startsWith('/users/') ? '/users/:id' : '');
const noRoute: RouteResolver = () => '';

test('server span: name, kind, timing, ids and attributes', () => {
  const span = httpSpan(
    exchange({ host: 'api.example.com:8080', userAgent: 'curl/8.5.0', query: 'page=2&token=s3cr3t', target: '/users/42?page=2&token=s3cr3t' }),
    serverConn,
    service,
    routeUsers,
    seqIds(),
  );
  assert.equal(span.protocol, 'http');
  assert.equal(span.name, 'GET /users/:id');
  assert.equal(span.kind, 'server');
  assert.equal(span.startNs, 5_000_000_000);
  assert.equal(span.endNs, 5_012_500_000);
  assert.equal(span.traceId, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');
  assert.equal(span.spanId, 'bbbbbbbbbbbbbbb1');
  assert.equal(span.parentSpanId, undefined);
  assert.equal(span.traceFlags, 1);
  assert.equal(span.status, 'unset');
  assert.equal(span.statusMessage, undefined);
  assert.equal(span.service, service);
  assert.equal(span.conn, serverConn);
  assert.deepEqual(span.attributes, {
    'http.request.method': 'GET',
    'http.response.status_code': 200,
    'url.path': '/users/42',
    'url.scheme': 'http',
    'client.address': '10.0.0.1',
    'server.address': 'api.example.com',
    'server.port': 8080,
    'http.request.body.size': 0,
    'http.response.body.size': 1234,
    'url.query': 'page=2&token=REDACTED',
    'http.route': '/users/:id',
    'user_agent.original': 'curl/8.5.0',
  });
});

test('server span without route, Host, query or user agent', () => {
  const span = httpSpan(exchange({ method: 'POST', path: '/login', target: '/login', requestBodySize: 57 }), { ...serverConn, tls: true }, service, noRoute, seqIds());
  assert.equal(span.name, 'POST');
  assert.deepEqual(span.attributes, {
    'http.request.method': 'POST',
    'http.response.status_code': 200,
    'url.path': '/login',
    'url.scheme': 'https',
    'client.address': '10.0.0.1',
    'server.address': '10.0.0.2',
    'server.port': 8080,
    'http.request.body.size': 57,
    'http.response.body.size': 1234,
  });
});

test('route resolver receives the path and the service', () => {
  const calls: [string, ServiceIdentity][] = [];
  httpSpan(exchange({ path: '/a/b', target: '/a/b?x=1', query: 'x=1' }), serverConn, service, (p, s) => {
    calls.push([p, s]);
    return '';
  }, seqIds());
  assert.deepEqual(calls, [['/a/b', service]]);
});

test('server span: IPv6 peers and bracketed Host header', () => {
  const conn: ConnInfo = { ...serverConn, localAddr: '2001:db8::2', remoteAddr: '2001:db8::1' };
  const noHost = httpSpan(exchange(), conn, service, noRoute, seqIds());
  assert.equal(noHost.attributes['client.address'], '2001:db8::1');
  assert.equal(noHost.attributes['server.address'], '2001:db8::2');
  const withHost = httpSpan(exchange({ host: '[2001:db8::2]:8080' }), conn, service, noRoute, seqIds());
  assert.equal(withHost.attributes['server.address'], '2001:db8::2');
});

test('incoming traceparent is honoured on a server exchange', () => {
  const span = httpSpan(exchange({ traceparent: `00-${T}-${P}-01` }), serverConn, service, routeUsers, seqIds());
  assert.equal(span.traceId, T);
  assert.equal(span.parentSpanId, P);
  assert.equal(span.traceFlags, 1);
  assert.equal(span.spanId, 'bbbbbbbbbbbbbbb1');
  const unsampled = httpSpan(exchange({ traceparent: `00-${T}-${P}-00` }), serverConn, service, routeUsers, seqIds());
  assert.equal(unsampled.traceFlags, 0);
});

test('malformed traceparent starts a new trace', () => {
  for (const tp of [`00-${T.toUpperCase()}-${P}-01`, `00-${'0'.repeat(32)}-${P}-01`, `00-${T}-${'0'.repeat(16)}-01`, `01-${T}-${P}-01`, `00-${T}-${P}`, 'garbage']) {
    const span = httpSpan(exchange({ traceparent: tp }), serverConn, service, routeUsers, seqIds());
    assert.equal(span.traceId, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', tp);
    assert.equal(span.parentSpanId, undefined, tp);
    assert.equal(span.traceFlags, 1, tp);
  }
});

test('traceparent on a client exchange does not parent the client span', () => {
  const span = httpSpan(exchange({ traceparent: `00-${T}-${P}-01` }), clientConn, service, routeUsers, seqIds());
  assert.equal(span.traceId, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');
  assert.equal(span.parentSpanId, undefined);
});

test('status: server ERROR iff >= 500 or 0, client ERROR iff >= 400 or 0', () => {
  const table: [number, 'unset' | 'error', 'unset' | 'error'][] = [
    [0, 'error', 'error'],
    [100, 'unset', 'unset'],
    [200, 'unset', 'unset'],
    [302, 'unset', 'unset'],
    [399, 'unset', 'unset'],
    [400, 'unset', 'error'],
    [404, 'unset', 'error'],
    [499, 'unset', 'error'],
    [500, 'error', 'error'],
    [503, 'error', 'error'],
    [599, 'error', 'error'],
  ];
  for (const [status, server, client] of table) {
    assert.equal(httpSpan(exchange({ status }), serverConn, service, noRoute, seqIds()).status, server, `server ${status}`);
    assert.equal(httpSpan(exchange({ status }), clientConn, service, noRoute, seqIds()).status, client, `client ${status}`);
  }
});

test('client span: attributes with Host header', () => {
  const span = httpSpan(
    exchange({ method: 'PUT', host: 'backend.svc:9090', path: '/items/7', target: '/items/7?api_key=k&v=1', query: 'api_key=k&v=1', requestBodySize: 10, responseBodySize: 0, status: 201 }),
    clientConn,
    service,
    noRoute,
    seqIds(),
  );
  assert.equal(span.kind, 'client');
  assert.equal(span.name, 'PUT');
  assert.deepEqual(span.attributes, {
    'http.request.method': 'PUT',
    'http.response.status_code': 201,
    'url.full': 'http://backend.svc:9090/items/7?api_key=REDACTED&v=1',
    'url.scheme': 'http',
    'server.address': 'backend.svc',
    'server.port': 9090,
    'http.request.body.size': 10,
    'http.response.body.size': 0,
  });
});

test('client span: url.full from the peer address when there is no Host header', () => {
  const cases: [ConnInfo, string, string][] = [
    [clientConn, 'http://10.0.0.9:9090/users/42', '10.0.0.9'],
    [{ ...clientConn, remotePort: 80 }, 'http://10.0.0.9/users/42', '10.0.0.9'],
    [{ ...clientConn, remotePort: 443, tls: true }, 'https://10.0.0.9/users/42', '10.0.0.9'],
    [{ ...clientConn, remotePort: 80, tls: true }, 'https://10.0.0.9:80/users/42', '10.0.0.9'],
    [{ ...clientConn, remoteAddr: '2001:db8::9' }, 'http://[2001:db8::9]:9090/users/42', '2001:db8::9'],
    [{ ...clientConn, remoteAddr: '::1', remotePort: 80 }, 'http://[::1]/users/42', '::1'],
  ];
  for (const [conn, url, server] of cases) {
    const span = httpSpan(exchange(), conn, service, routeUsers, seqIds());
    assert.equal(span.attributes['url.full'], url);
    assert.equal(span.attributes['server.address'], server);
    assert.equal(span.attributes['server.port'], conn.remotePort);
    assert.equal(span.attributes['url.scheme'], conn.tls ? 'https' : 'http');
    assert.equal(span.name, 'GET /users/:id');
  }
});

test('client span: absolute-form target (proxy request) is used as url.full', () => {
  const span = httpSpan(
    exchange({ target: 'http://example.com/a?token=x&b=2', path: '/a', query: 'token=x&b=2', host: 'example.com' }),
    clientConn,
    service,
    noRoute,
    seqIds(),
  );
  assert.equal(span.attributes['url.full'], 'http://example.com/a?token=REDACTED&b=2');
});

test('custom redactor is applied to url.query and url.full', () => {
  const redactQuery = createQueryRedactor(['page']);
  const server = httpSpan(exchange({ query: 'page=2&token=t' }), serverConn, service, noRoute, seqIds(), { redactQuery });
  assert.equal(server.attributes['url.query'], 'page=REDACTED&token=t');
  const client = httpSpan(exchange({ query: 'page=2&token=t' }), clientConn, service, noRoute, seqIds(), { redactQuery });
  assert.equal(client.attributes['url.full'], 'http://10.0.0.9:9090/users/42?page=REDACTED&token=t');
});

test('empty query is not reported', () => {
  const span = httpSpan(exchange({ query: '' }), serverConn, service, noRoute, seqIds());
  assert.equal('url.query' in span.attributes, false);
});

test('hostHeaderName', () => {
  assert.equal(hostHeaderName(undefined), undefined);
  assert.equal(hostHeaderName(''), undefined);
  assert.equal(hostHeaderName('example.com'), 'example.com');
  assert.equal(hostHeaderName('example.com:8080'), 'example.com');
  assert.equal(hostHeaderName('[::1]:8080'), '::1');
  assert.equal(hostHeaderName('[::1]'), '::1');
  assert.equal(hostHeaderName('[]'), undefined);
  assert.equal(hostHeaderName(':8080'), undefined);
  assert.equal(hostHeaderName('fe80::1'), 'fe80::1');
});
