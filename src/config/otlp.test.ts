import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guessProtocol, parseHeaders, resolveOtlp } from './otlp.ts';
import type { OtelMetricsExportConfig, OtelTracesExportConfig } from './generated/types.ts';

function cfg(traces: Partial<OtelTracesExportConfig>, metrics: Partial<OtelMetricsExportConfig> = {}) {
  return {
    otel_traces_export: traces as OtelTracesExportConfig,
    otel_metrics_export: metrics as OtelMetricsExportConfig,
  };
}

test('no endpoint: exporter disabled', () => {
  assert.equal(resolveOtlp(cfg({}), 'traces'), undefined);
  assert.equal(resolveOtlp(cfg({ endpoint: ' ' }), 'traces'), undefined);
});

test('common endpoint gets the signal path for HTTP, not for gRPC', () => {
  assert.deepEqual(resolveOtlp(cfg({ common_endpoint: 'http://collector:4318' }), 'traces'), {
    endpoint: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', headers: {},
  });
  assert.deepEqual(resolveOtlp(cfg({}, { common_endpoint: 'https://otlp.example.com/otlp/' }), 'metrics'), {
    endpoint: 'https://otlp.example.com/otlp/v1/metrics', protocol: 'http/protobuf', headers: {},
  });
  assert.deepEqual(resolveOtlp(cfg({ common_endpoint: 'http://collector:4317' }), 'traces'), {
    endpoint: 'http://collector:4317', protocol: 'grpc', headers: {},
  });
});

test('per-signal endpoint is used as is and wins over the common one', () => {
  assert.deepEqual(resolveOtlp(cfg({ endpoint: 'http://a:4318/custom', common_endpoint: 'http://b:4318' }), 'traces'), {
    endpoint: 'http://a:4318/custom', protocol: 'http/protobuf', headers: {},
  });
});

test('protocol: explicit beats guess; guess by port suffix', () => {
  assert.equal(resolveOtlp(cfg({ endpoint: 'http://a:4317', protocol: 'http/json' }), 'traces')?.protocol, 'http/json');
  assert.equal(resolveOtlp(cfg({ common_endpoint: 'http://a:4318', protocol: 'grpc' }), 'traces')?.endpoint, 'http://a:4318');
  assert.equal(guessProtocol('http://a:14317'), 'grpc');
  assert.equal(guessProtocol('http://a:4318'), 'http/protobuf');
  assert.equal(guessProtocol('http://a:9999'), 'http/protobuf');
  assert.equal(guessProtocol('https://a'), 'http/protobuf');
  assert.equal(guessProtocol('not a url'), 'http/protobuf');
});

test('headers: common then per-signal, URL-decoded', () => {
  const r = resolveOtlp(cfg({ endpoint: 'http://a:4318', common_headers: 'authorization=Basic%20abc, x-tenant=one', headers: 'x-tenant=two' }), 'traces');
  assert.deepEqual(r?.headers, { authorization: 'Basic abc', 'x-tenant': 'two' });
  assert.ok(Object.isFrozen(r?.headers));
});

test('parseHeaders errors', () => {
  assert.deepEqual(parseHeaders(''), {});
  assert.deepEqual(parseHeaders('a=b=c'), { a: 'b=c' });
  assert.throws(() => parseHeaders('novalue'), { code: 'OBI_ERR_CONFIG_INVALID', message: 'header entry "novalue" is not key=value' });
  assert.throws(() => parseHeaders('=v'), { message: 'header entry "=v" is not key=value' });
  assert.throws(() => parseHeaders('k=%zz'), { message: 'header entry "k=%zz" has invalid %-encoding' });
  assert.throws(() => parseHeaders('%20=v'), { message: 'header entry "%20=v" has an empty key' });
});
