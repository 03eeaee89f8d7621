import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PIDS, parsePidList, parsePortRanges } from './ranges.ts';

test('port ranges: numbers, strings, lists', () => {
  assert.deepEqual(parsePortRanges(8080), [{ start: 8080, end: 8080 }]);
  assert.deepEqual(parsePortRanges('80,443,8000-8999'), [
    { start: 80, end: 80 }, { start: 443, end: 443 }, { start: 8000, end: 8999 },
  ]);
  assert.deepEqual(parsePortRanges(' 80 , 8000 - 8010 '), [{ start: 80, end: 80 }, { start: 8000, end: 8010 }]);
  assert.deepEqual(parsePortRanges([80, '443', '9000-9001']), [
    { start: 80, end: 80 }, { start: 443, end: 443 }, { start: 9000, end: 9001 },
  ]);
  assert.deepEqual(parsePortRanges([]), []);
  assert.ok(Object.isFrozen(parsePortRanges(1)[0]));
});

test('port ranges: every error names the culprit', () => {
  const bad: [Parameters<typeof parsePortRanges>[0], string][] = [
    ['90-80', 'port range 90-80 is reversed (start > end)'],
    ['0', 'port 0 is out of range 1-65535'],
    ['65536', 'port 65536 is out of range 1-65535'],
    ['80-70000', 'port 70000 is out of range 1-65535'],
    ['http', '"http" is not a port or a range of them'],
    ['80,,90', 'empty entry in the list'],
    ['', 'empty list: expected something like "80,443,8000-8999"'],
    [8080.5, '8080.5 is not a port'],
    ['1-2-3', '"1-2-3" is not a port or a range of them'],
  ];
  for (const [input, message] of bad) {
    assert.throws(() => parsePortRanges(input), { code: 'OBI_ERR_CONFIG_INVALID', message }, String(input));
  }
});

test('PID lists: comma lists, ranges expanded, duplicates removed', () => {
  assert.deepEqual(parsePidList('1234,5678'), [1234, 5678]);
  assert.deepEqual(parsePidList(42), [42]);
  assert.deepEqual(parsePidList([7, 7, 8]), [7, 8]);
  assert.deepEqual(parsePidList('10-12,11'), [10, 11, 12]);
  assert.equal(parsePidList(`1-${MAX_PIDS}`).length, MAX_PIDS);
});

test('PID lists: errors', () => {
  assert.throws(() => parsePidList('0'), { message: 'PID 0 is not a process' });
  assert.throws(() => parsePidList('5-1'), { message: 'PID range 5-1 is reversed (start > end)' });
  assert.throws(() => parsePidList(`1-${MAX_PIDS + 1}`), { message: `more than ${MAX_PIDS} PIDs` });
  assert.throws(() => parsePidList('12a'), { message: '"12a" is not a PID or a range of them' });
  assert.throws(() => parsePidList(' '), { message: 'empty list: expected something like "1234,5678"' });
});
