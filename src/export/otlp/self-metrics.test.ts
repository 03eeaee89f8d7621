import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { exportErrorType } from './self-metrics.ts';

test('exportErrorType: low-cardinality labels, never the message', () => {
  assert.equal(exportErrorType(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14, details: '', metadata: new Metadata() })), 'UNAVAILABLE');
  assert.equal(exportErrorType(Object.assign(new Error('x'), { code: 4, details: '', metadata: new Metadata() })), 'DEADLINE_EXCEEDED');
  assert.equal(exportErrorType(Object.assign(new Error('Service Unavailable'), { name: 'OTLPExporterError', code: 503, data: '' })), 'http_503');
  assert.equal(exportErrorType(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4318'), { code: 'ECONNREFUSED' })), 'ECONNREFUSED');
  assert.equal(exportErrorType(new Error('Request timed out')), 'timeout');
  assert.equal(exportErrorType(new Error('something else at 10.0.0.1')), '_OTHER');
  assert.equal(exportErrorType(undefined), '_OTHER');
});
