import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsRecord } from '../protocols/common/records.ts';
import { DnsMetrics, dnsSpan, dnsSpanName } from './dns.ts';
import { RandomIdSource } from './ids.ts';
import { MetricStore } from './store.ts';

const rec = (over: Partial<DnsRecord> = {}): DnsRecord => ({ category: 'dns', transport: 'udp', name: 'web.obi.test', type: 'A', rcode: 'NOERROR', answers: 1, tc: false, startNs: 1000, endNs: 5000, ...over });
const conn = { pid: 1, tid: 1, role: 'client', localAddr: '127.0.0.1', localPort: 40000, remoteAddr: '127.0.0.53', remotePort: 53, tls: false } as const;
const service = { name: 'app', namespace: '', instanceId: 'h:1', pid: 1, language: 'go' } as never;

test('dns span: `<type> <question>`, answers, transport, NXDOMAIN as error.type', () => {
  assert.equal(dnsSpanName(rec()), 'A web.obi.test');
  assert.equal(dnsSpanName(rec({ name: undefined })), 'DNS');
  const ids = new RandomIdSource();
  const ok = dnsSpan(rec(), conn, service, ids, 'dns');
  assert.deepEqual(ok.attributes, { 'server.address': '127.0.0.53', 'server.port': 53, 'network.transport': 'udp', 'dns.answers': 1, 'dns.question.name': 'web.obi.test' });
  assert.equal(ok.status, 'unset');
  const nx = dnsSpan(rec({ rcode: 'NXDOMAIN', errorType: 'NXDOMAIN', answers: 0 }), conn, service, ids, 'dns');
  assert.equal(nx.status, 'error');
  assert.equal(nx.attributes['error.type'], 'NXDOMAIN');
});

test('dns_lookup_duration_seconds: client DNS spans only, error.type by default', () => {
  const m = new DnsMetrics(new MetricStore());
  const ids = new RandomIdSource();
  m.recordAll([dnsSpan(rec(), conn, service, ids, 'dns'), dnsSpan(rec({ errorType: 'NXDOMAIN' }), conn, service, ids, 'dns'), dnsSpan(rec(), { ...conn, role: 'server' }, service, ids, 'dns')]);
  // labels in labelNames order: error_type first
  assert.deepEqual(
    m.histogram.series().map((s) => [s.labelValues[0], s.count]),
    [['', 1], ['NXDOMAIN', 1]],
  );
  assert.deepEqual(m.labelNames, ['error_type', 'instance', 'job', 'service_name', 'service_namespace']);
});
