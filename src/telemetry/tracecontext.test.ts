import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTraceparent, parseTraceparent } from './tracecontext.ts';

const T = '0af7651916cd43dd8448eb211c80319c';
const P = 'b7ad6b7169203331';

test('parseTraceparent: valid version-00 values', () => {
  assert.deepEqual(parseTraceparent(`00-${T}-${P}-01`), { traceId: T, parentId: P, flags: 1 });
  assert.deepEqual(parseTraceparent(`00-${T}-${P}-00`), { traceId: T, parentId: P, flags: 0 });
  assert.deepEqual(parseTraceparent(`00-${T}-${P}-ff`), { traceId: T, parentId: P, flags: 255 });
  // surrounding optional whitespace of a header value
  assert.deepEqual(parseTraceparent(` 00-${T}-${P}-01\t`), { traceId: T, parentId: P, flags: 1 });
});

test('parseTraceparent: malformed values are ignored', () => {
  const bad: [string, string | undefined][] = [
    ['absent', undefined],
    ['empty', ''],
    ['version 01', `01-${T}-${P}-01`],
    ['version ff', `ff-${T}-${P}-01`],
    ['uppercase trace id', `00-${T.toUpperCase()}-${P}-01`],
    ['uppercase parent id', `00-${T}-${P.toUpperCase()}-01`],
    ['uppercase flags', `00-${T}-${P}-0A`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${P}-01`],
    ['all-zero parent id', `00-${T}-${'0'.repeat(16)}-01`],
    ['short trace id', `00-${T.slice(1)}-${P}-01`],
    ['long parent id', `00-${T}-${P}0-01`],
    ['non-hex in trace id', `00-${T.slice(0, 31)}g-${P}-01`],
    ['non-hex flags', `00-${T}-${P}-0x`],
    ['wrong separator', `00_${T}-${P}-01`],
    ['missing flags', `00-${T}-${P}`],
    ['trailing data', `00-${T}-${P}-01-extra`],
  ];
  for (const [why, value] of bad) assert.equal(parseTraceparent(value), undefined, why);
});

test('formatTraceparent pads the flags', () => {
  assert.equal(formatTraceparent(T, P, 1), `00-${T}-${P}-01`);
  assert.equal(formatTraceparent(T, P, 0xab), `00-${T}-${P}-ab`);
  assert.deepEqual(parseTraceparent(formatTraceparent(T, P, 3)), { traceId: T, parentId: P, flags: 3 });
});
