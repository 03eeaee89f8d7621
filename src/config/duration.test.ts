import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { durationMs, parseDuration, tryParseDuration } from './duration.ts';

test('parses Go durations into milliseconds', () => {
  const cases: [string, number][] = [
    ['0', 0], ['0s', 0], ['500ms', 500], ['5s', 5000], ['1m', 60000], ['1h', 3600000], ['1m30s', 90000],
    ['2h45m', 9900000], ['1.5s', 1500], ['.5s', 500], ['1.s', 1000], ['100us', 0.1], ['100µs', 0.1], ['100μs', 0.1],
    ['1500000ns', 1.5], ['10ms5ms', 15],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('rejects what Go rejects, and negatives', () => {
  for (const text of ['', '5', '5 s', ' 5s', '5s ', '-1s', '+1s', '1d', 'ms', 's5', '1.5', '5S', '1h-1m', '.s']) {
    assert.equal(tryParseDuration(text), undefined, text);
  }
  assert.throws(() => parseDuration('5 seconds'), {
    code: 'OBI_ERR_CONFIG_INVALID',
    message: '"5 seconds" is not a duration (examples: 500ms, 5s, 1m30s, 1h)',
  });
});

test('rejects durations beyond Go int64 nanoseconds', () => {
  assert.equal(tryParseDuration('2562047h'), 2562047 * 3600000);
  assert.equal(tryParseDuration('2562048h'), undefined);
});

test('durationMs is parseDuration, memoised', () => {
  assert.equal(durationMs('250ms'), 250);
  assert.equal(durationMs('250ms'), 250);
  assert.throws(() => durationMs('x'), { code: 'OBI_ERR_CONFIG_INVALID' });
});

test('property: h/m/s/ms compositions parse to their sum', () => {
  fc.assert(
    fc.property(fc.nat(1000), fc.nat(59), fc.nat(59), fc.nat(999), (h, m, s, ms) => {
      const parts = [[h, 'h'], [m, 'm'], [s, 's'], [ms, 'ms']] as const;
      const text = parts.filter(([v]) => v > 0).map(([v, u]) => `${v}${u}`).join('') || '0';
      assert.equal(parseDuration(text), ((h * 60 + m) * 60 + s) * 1000 + ms);
    }),
  );
});
