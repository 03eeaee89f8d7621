import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandEnvReferences, parseGoBool, parseYaml11Bool, splitList, withBeylaCompat } from './env.ts';

test('Beyla compatibility copies BEYLA_X (then BEYLA_OTEL_X) to unset OTEL_EBPF_X', () => {
  const env = withBeylaCompat({
    BEYLA_OPEN_PORT: '8080',
    BEYLA_TRACE_PRINTER: 'text',
    OTEL_EBPF_TRACE_PRINTER: 'json',
    BEYLA_OTEL_INSECURE_SKIP_VERIFY: 'true',
    BEYLA_CONFIG_PATH: '/etc/beyla.yml',
  });
  assert.equal(env.OTEL_EBPF_OPEN_PORT, '8080');
  assert.equal(env.OTEL_EBPF_TRACE_PRINTER, 'json');
  assert.equal(env.OTEL_EBPF_INSECURE_SKIP_VERIFY, 'true');
  assert.equal(env.OTEL_EBPF_OTEL_INSECURE_SKIP_VERIFY, 'true');
  assert.equal(env.OTEL_EBPF_CONFIG_PATH, '/etc/beyla.yml');
  assert.equal(env.BEYLA_OPEN_PORT, '8080');
});

test('Beyla compatibility: BEYLA_X beats BEYLA_OTEL_X for the same target', () => {
  const env = withBeylaCompat({ BEYLA_OTEL_METRICS_FEATURES: 'network', BEYLA_METRICS_FEATURES: 'application' });
  assert.equal(env.OTEL_EBPF_METRICS_FEATURES, 'application');
});

test('substitutes ${VAR}, $(VAR), ${env:VAR}, ${VAR:-default} and $$', () => {
  const env = { A: 'alpha', EMPTY: '' };
  const cases: [string, string][] = [
    ['x: ${A}', 'x: alpha'],
    ['x: $(A)', 'x: alpha'],
    ['x: ${env:A}', 'x: alpha'],
    ['x: ${A:-d}', 'x: alpha'],
    ['x: ${MISSING:-d}', 'x: d'],
    ['x: ${EMPTY:-d}', 'x: d'],
    ['x: ${env:MISSING:-d e}', 'x: d e'],
    ['x: $$A and $${A}', 'x: $A and ${A}'],
    ['x: ^/api$', 'x: ^/api$'],
    ['x: $A', 'x: $A'],
    ['x: ${not valid}', 'x: ${not valid}'],
    ['x: ${A', 'x: ${A'],
    ['x: $', 'x: $'],
    ['${A}${A}', 'alphaalpha'],
  ];
  for (const [input, output] of cases) assert.equal(expandEnvReferences(input, env).text, output, input);
});

test('reports variables referenced while unset', () => {
  const r = expandEnvReferences('a: ${X}\nb: $(X)\nc: ${Y:-1}\nd: ${EMPTY}', { EMPTY: '' });
  assert.equal(r.text, 'a: \nb: \nc: 1\nd: ');
  assert.deepEqual(r.unset, ['X']);
});

test('booleans and lists', () => {
  assert.deepEqual(['1', 't', 'T', 'TRUE', 'true', 'True'].map(parseGoBool), [true, true, true, true, true, true]);
  assert.deepEqual(['0', 'f', 'F', 'FALSE', 'false', 'False'].map(parseGoBool), [false, false, false, false, false, false]);
  assert.equal(parseGoBool('yes'), undefined);
  assert.deepEqual(['yes', 'On', 'Y', 'no', 'OFF', 'n'].map(parseYaml11Bool), [true, true, true, false, false, false]);
  assert.equal(parseYaml11Bool('maybe'), undefined);
  assert.deepEqual(splitList(' a, b,,c ,'), ['a', 'b', 'c']);
  assert.deepEqual(splitList(''), []);
});
