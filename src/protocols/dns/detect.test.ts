import { test } from 'node:test';
import assert from 'node:assert/strict';
import { query, response, tcp } from '../../../test/helpers/dns-messages.ts';
import { detectDnsTcp, detectDnsUdp, rcodeName, typeName } from './index.ts';

test('dns: queries and responses are detected over UDP and over TCP, each on its own framing', () => {
  const q = query(0x1234, 'www.example.com', 1);
  const r = response(0x1234, 'www.example.com', 1, 0, 2);
  assert.equal(detectDnsUdp(q, 'request'), true);
  assert.equal(detectDnsUdp(r, 'response'), true);
  assert.equal(detectDnsUdp(q, 'response'), false);
  assert.equal(detectDnsUdp(r, 'request'), false);
  assert.equal(detectDnsTcp(tcp(q), 'request'), true);
  assert.equal(detectDnsTcp(tcp(r), 'response'), true);
  assert.equal(detectDnsTcp(q, 'request'), false);
  assert.equal(detectDnsUdp(tcp(q), 'request'), false);
});

test('dns: other protocols are not taken for DNS', () => {
  for (const s of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', '*1\r\n$4\r\nPING\r\n', 'get key\r\n', '\u0000\u0000\u0000\u0008\u0004\u00d2\u0016\u002f']) {
    assert.equal(detectDnsUdp(Buffer.from(s, 'latin1'), 'request'), false, s);
    assert.equal(detectDnsTcp(Buffer.from(s, 'latin1'), 'request'), false, s);
  }
  const twoQuestions = query(1, 'a.example', 1);
  twoQuestions.writeUInt16BE(2, 4);
  assert.equal(detectDnsUdp(twoQuestions, 'request'), false);
});

test('dns: type and response-code mnemonics', () => {
  assert.deepEqual([1, 28, 16, 65, 65534].map(typeName), ['A', 'AAAA', 'TXT', 'HTTPS', 'TYPE65534']);
  assert.deepEqual([0, 2, 3, 5, 15].map(rcodeName), ['NOERROR', 'SERVFAIL', 'NXDOMAIN', 'REFUSED', 'RCODE15']);
});
