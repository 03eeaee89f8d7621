/**
 * HPACK against RFC 7541: the Huffman code of Appendix B (spot values), and every example of
 * Appendix C (C.2 field representations, C.3-C.6 request and response sequences with their
 * dynamic tables), plus the unknown-table rules of hpack.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { huffmanCodes, huffmanDecode } from './huffman.ts';
import { HpackDecoder, readInt } from './hpack.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('Huffman codes follow Appendix B (canonical code from the lengths; spot values)', () => {
  const { codes, lengths } = huffmanCodes();
  const expect: [number, number, number][] = [
    [0, 0x1ff8, 13],
    [1, 0x7fffd8, 23],
    [10, 0x3ffffffc, 30],
    [32, 0x14, 6],
    [48, 0x0, 5],
    [58, 0x5c, 7],
    [92, 0x7fff0, 19],
    [116, 0x9, 5],
    [127, 0xffffffc, 28],
    [153, 0x1fffdc, 21],
    [199, 0x1ffffec, 25],
    [203, 0x7ffffde, 27],
    [238, 0x3ffffea, 26],
    [254, 0x7fffff0, 27],
    [255, 0x3ffffee, 26],
    [256, 0x3fffffff, 30],
  ];
  for (const [sym, code, len] of expect) {
    assert.equal(lengths[sym], len, `length of ${sym}`);
    assert.equal(codes[sym], code, `code of ${sym}`);
  }
  // a complete prefix code: Kraft sum exactly 1
  let kraft = 0;
  for (const l of lengths) kraft += 2 ** -l;
  assert.equal(kraft, 1);
});

test('Huffman decoding: Appendix C strings, padding and EOS rules', () => {
  const dec = (h: string): string | undefined => {
    const b = hex(h);
    return huffmanDecode(b, 0, b.length, 1 << 16);
  };
  assert.equal(dec('f1e3 c2e5 f23a 6ba0 ab90 f4ff'), 'www.example.com');
  assert.equal(dec('a8eb 1064 9cbf'), 'no-cache');
  assert.equal(dec('25a8 49e9 5ba9 7d7f'), 'custom-key');
  assert.equal(dec('25a8 49e9 5bb8 e8b4 bf'), 'custom-value');
  assert.equal(dec('6402'), '302');
  assert.equal(dec('aec3 771a 4b'), 'private');
  assert.equal(dec('d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'), 'Mon, 21 Oct 2013 20:13:21 GMT');
  assert.equal(dec('9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'), 'https://www.example.com');
  assert.equal(dec(''), '');
  // padding longer than 7 bits, or not all ones, is an error (RFC 7541 §5.2)
  assert.equal(dec('ff'), undefined); // 8 bits of padding
  assert.equal(dec('00'), undefined); // '0' then padding of zeros
  assert.equal(dec('ffff ffff'), undefined); // EOS inside
  assert.equal(dec('07'), '0'); // '0' (00000) then 3 bits of padding
});

test('integers: Appendix C.1', () => {
  assert.deepEqual(readInt(Uint8Array.from([0x0a]), 0, 5), { value: 10, next: 1 });
  assert.deepEqual(readInt(Uint8Array.from([0x1f, 0x9a, 0x0a]), 0, 5), { value: 1337, next: 3 });
  assert.deepEqual(readInt(Uint8Array.from([0x2a]), 0, 8), { value: 42, next: 1 });
  assert.equal(readInt(Uint8Array.from([0x1f, 0x9a]), 0, 5), undefined); // truncated
});

const fields = (d: HpackDecoder, h: string): [string, string][] => {
  const r = d.decode(hex(h));
  assert.equal(r.status, 'ok', `status ${r.status} ${r.error ?? ''}`);
  return r.fields.map(([n, v]) => [n, v]);
};

test('C.2 field representations', () => {
  let d = new HpackDecoder();
  assert.deepEqual(fields(d, '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'), [['custom-key', 'custom-header']]);
  assert.equal(d.size, 55);
  d = new HpackDecoder();
  assert.deepEqual(fields(d, '040c 2f73 616d 706c 652f 7061 7468'), [[':path', '/sample/path']]);
  assert.equal(d.size, 0);
  d = new HpackDecoder();
  assert.deepEqual(fields(d, '1008 7061 7373 776f 7264 0673 6563 7265 74'), [['password', 'secret']]);
  assert.equal(d.size, 0);
  d = new HpackDecoder();
  assert.deepEqual(fields(d, '82'), [[':method', 'GET']]);
  assert.equal(d.size, 0);
});

const REQ1: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const REQ2: [string, string][] = [...REQ1, ['cache-control', 'no-cache']];
const REQ3: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];

test('C.3 requests without Huffman, C.4 with Huffman (one table across requests)', () => {
  for (const [blocks, sizes] of [
    [['8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', '8286 84be 5808 6e6f 2d63 6163 6865', '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'], [57, 110, 164]],
    [['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', '8286 84be 5886 a8eb 1064 9cbf', '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'], [57, 110, 164]],
  ] as const) {
    const d = new HpackDecoder();
    assert.deepEqual(fields(d, blocks[0]), REQ1);
    assert.equal(d.size, sizes[0]);
    assert.deepEqual(fields(d, blocks[1]), REQ2);
    assert.equal(d.size, sizes[1]);
    assert.deepEqual(fields(d, blocks[2]), REQ3);
    assert.equal(d.size, sizes[2]);
    assert.equal(d.entryCount, 3);
  }
});

const RESP1: [string, string][] = [
  [':status', '302'],
  ['cache-control', 'private'],
  ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
  ['location', 'https://www.example.com'],
];
const RESP2: [string, string][] = [
  [':status', '307'],
  ['cache-control', 'private'],
  ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
  ['location', 'https://www.example.com'],
];
const RESP3: [string, string][] = [
  [':status', '200'],
  ['cache-control', 'private'],
  ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
  ['location', 'https://www.example.com'],
  ['content-encoding', 'gzip'],
  ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
];

test('C.5 responses without Huffman, C.6 with Huffman (table size 256: evictions)', () => {
  const c5 = [
    '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    '4803 3330 37c1 c0bf',
    '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
  ];
  const c6 = [
    '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
    '4883 640e ffc1 c0bf',
    '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
  ];
  for (const blocks of [c5, c6]) {
    const d = new HpackDecoder();
    d.setLimit(256);
    assert.deepEqual(fields(d, blocks[0]), RESP1);
    assert.equal(d.size, 222);
    assert.deepEqual(fields(d, blocks[1]), RESP2);
    assert.equal(d.size, 222);
    assert.deepEqual(fields(d, blocks[2]), RESP3);
    assert.equal(d.size, 215);
    assert.equal(d.entryCount, 3);
  }
});

test('bad input: index out of range, truncated literal, bad Huffman → error, table unknown', () => {
  for (const h of ['be', 'ff ff ff ff ff ff 0f', '400a 6375', '4183 ffffff', '4000']) {
    const d = new HpackDecoder();
    const r = d.decode(hex(h));
    assert.equal(r.status, 'error', h);
    assert.equal(d.unknown, true, h);
  }
  // a size update after a field, or above the limit
  assert.equal(new HpackDecoder().decode(hex('82 20')).status, 'error');
  assert.equal(new HpackDecoder().decode(hex('3fe2 1f')).status, 'error'); // 4097 > 4096
  assert.equal(new HpackDecoder().decode(hex('3fe1 1f')).status, 'ok'); // 4096
});

test('unknown table: static and literals decode, old dynamic references do not, new entries do', () => {
  const d = new HpackDecoder(true);
  // :method GET, :path from an old dynamic entry (idx 62), :authority literal with indexing
  const r = d.decode(hex('82 be 410f 7777 772e 6578 616d 706c 652e 636f 6d'));
  assert.equal(r.status, 'partial');
  assert.deepEqual(r.fields, [
    [':method', 'GET'],
    [':authority', 'www.example.com'],
  ]);
  assert.equal(d.unknown, true);
  // the entry just inserted is index 62 now: known
  assert.deepEqual(d.decode(hex('be')).fields, [[':authority', 'www.example.com']]);
  // index 63 is older than the agent: no field
  const r2 = d.decode(hex('bf'));
  assert.equal(r2.status, 'partial');
  assert.deepEqual(r2.fields, []);
  // a size update to 0 empties the table: known again
  assert.equal(d.decode(hex('20 82')).status, 'ok');
  assert.equal(d.unknown, false);
});

test('unknown table becomes known when new entries exceed a proven bound', () => {
  const d = new HpackDecoder(true);
  d.setLimit(100); // the decoder's setting bounds the encoder's table
  assert.equal(d.unknown, true);
  // custom-key: custom-header (55) twice → 110 > 100: nothing older can remain
  d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
  assert.equal(d.unknown, true);
  d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
  assert.equal(d.unknown, false);
});

test('detection: a HEADERS block that starts with dynamic references is still told apart by its first static field', async () => {
  const { detectHttp2 } = await import('./detect.ts');
  const frame = (block: number[]): Buffer => Buffer.from([0, 0, block.length, 1, 4, 0, 0, 0, 7, ...block]);
  // :authority from the table (0xbe), a literal x-a: b, then :method POST (0x83)
  const req = frame([0xbe, 0x40, 3, 0x78, 0x2d, 0x61, 1, 0x62, 0x83]);
  assert.equal(detectHttp2(req, 'request'), true);
  assert.equal(detectHttp2(req, 'response'), false);
  // dynamic references, then :status 200
  const resp = frame([0xc0, 0xbf, 0x88]);
  assert.equal(detectHttp2(resp, 'response'), true);
  assert.equal(detectHttp2(resp, 'request'), false);
  // only dynamic references: undecided
  assert.equal(detectHttp2(frame([0xbe, 0xbf]), 'request'), false);
});
