/**
 * The dependency rules fire: a scratch tree laid out like src/, with one import per rule that
 * breaks it and imports that are allowed, cruised with the repository's .dependency-cruiser.cjs
 * (its KNOWN_VIOLATIONS replaced by the scratch list). Exact sets of violations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { depsCheck, violationKey } from './deps-check.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** file → source; every file exports `v` so imports can use a value */
const TREE: Record<string, string> = {
  'src/errors.ts': `export const v = 1;`,
  'src/common/a.ts': `import { v as b } from './b.ts';\nexport const v = b;`,
  'src/common/b.ts': `import { v as a } from './a.ts';\nimport { v as e } from '../errors.ts';\nexport const v = () => a + e;`,
  'src/common/c.ts': `import { v as a } from '../pipeline/agent.ts';\nexport const v = a;`,
  'src/protocols/common/contract.ts': `import { v as c } from '../../common/a.ts';\nexport const v = c;\nexport type T = number;`,
  'src/protocols/one/parse.ts': [
    `import { readFileSync } from 'node:fs';`,
    `import { v as c } from '../common/contract.ts';`,
    `import { v as two } from '../two/parse.ts';`,
    `import { Buffer } from 'node:buffer';`,
    `export const v = [readFileSync, c, two, Buffer];`,
  ].join('\n'),
  'src/protocols/one/index.ts': `import { v as p } from './parse.ts';\nexport const v = p;`,
  'src/protocols/one/parse.test.ts': `import { readFileSync } from 'node:fs';\nimport fc from 'fast-check';\nexport const v = [readFileSync, fc];`,
  'src/protocols/two/parse.ts': `export const v = 2;`,
  'src/protocols/registry.ts': `import { v as one } from './one/index.ts';\nimport { v as two } from './two/parse.ts';\nexport const v = [one, two];`,
  'src/telemetry/span.ts': [
    `import type { T } from '../protocols/common/contract.ts';`,
    `import { v as c } from '../protocols/common/contract.ts';`,
    `import client from 'prom-client';`,
    `import { v as d } from '../discovery/scan.ts';`,
    `export const v: T[] = [c, client, d] as never;`,
  ].join('\n'),
  'src/telemetry/span.test.ts': `import client from 'prom-client';\nexport const v = client;`,
  'src/discovery/scan.ts': `import { readFileSync } from 'node:fs';\nexport const v = readFileSync;`,
  'src/ingest/conn.ts': [
    `import { v as r } from '../protocols/registry.ts';`,
    `import { v as one } from '../protocols/one/parse.ts';`,
    `import fc from 'fast-check';`,
    `export const v = [r, one, fc];`,
  ].join('\n'),
  'src/ingest/conn.test.ts': `import fc from 'fast-check';\nimport { v as cfg } from '../config/load.ts';\nexport const v = [fc, cfg];`,
  'src/config/load.ts': `import { v as s } from '../telemetry/span.ts';\nexport const v = s;\nexport type C = number;`,
  'src/export/otlp.ts': [
    `import type { C } from '../config/load.ts';`,
    `import { v as cfg } from '../config/load.ts';`,
    `import { v as h } from '../../test/helpers/h.ts';`,
    `export const v: C = [cfg, h] as never;`,
  ].join('\n'),
  'src/pipeline/agent.ts': `import { v as d } from '../discovery/scan.ts';\nimport { v as x } from '../export/otlp.ts';\nexport const v = [d, x];`,
  'test/helpers/h.ts': `import { v as a } from '../../src/errors.ts';\nexport const v = a;`,
};

/** the scratch KNOWN_VIOLATIONS: one that occurs, one that does not */
const KNOWN = [
  { type: 'dependency', from: 'src/telemetry/span.ts', to: 'node_modules/prom-client/index.js', rule: { name: 'telemetry-no-prom-client', severity: 'error' } },
  { type: 'dependency', from: 'src/telemetry/gone.ts', to: 'node_modules/prom-client/index.js', rule: { name: 'telemetry-no-prom-client', severity: 'error' } },
];

test('each dependency rule reports its violation, and only those', () => {
  const dir = mkdtempSync(join(tmpdir(), 'obi-deps-'));
  try {
    for (const [file, text] of Object.entries(TREE)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), `${text}\n`);
    }
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules')); // (preserveSymlinks below keeps it node_modules/)
    writeFileSync(
      join(dir, '.dependency-cruiser.cjs'),
      `const c = require(${JSON.stringify(join(ROOT, '.dependency-cruiser.cjs'))});\n` +
        `module.exports = { ...c, options: { ...c.options, preserveSymlinks: true, knownViolations: ${JSON.stringify(KNOWN)} } };\n`,
    );

    const r = depsCheck(dir, ['src', 'test']);
    assert.deepEqual(r.errors.map(violationKey).sort(), [
      'common-imports-nothing: src/common/c.ts → src/pipeline/agent.ts',
      'config-imports: src/config/load.ts → src/telemetry/span.ts',
      'discovery-only-from-pipeline: src/telemetry/span.ts → src/discovery/scan.ts',
      'export-to-config-types-only: src/export/otlp.ts → src/config/load.ts',
      'no-circular: src/common/a.ts → src/common/b.ts',
      'pipeline-cli-are-top: src/common/c.ts → src/pipeline/agent.ts',
      'production-not-to-dev-deps: src/ingest/conn.ts → node_modules/fast-check/lib/cjs/fast-check.d.ts',
      'production-not-to-test-or-bench: src/export/otlp.ts → test/helpers/h.ts',
      'protocol-imports-common-only: src/protocols/one/parse.ts → src/protocols/two/parse.ts',
      'protocol-internals-via-registry: src/ingest/conn.ts → src/protocols/one/parse.ts',
      'protocols-pure: src/protocols/one/parse.ts → fs',
      'registry-imports-descriptors: src/protocols/registry.ts → src/protocols/two/parse.ts',
      'telemetry-imports: src/telemetry/span.ts → src/discovery/scan.ts',
      'telemetry-no-prom-client: src/telemetry/span.test.ts → node_modules/prom-client/index.js',
      'telemetry-to-protocols-types-only: src/telemetry/span.ts → src/protocols/common/contract.ts',
    ].sort());
    assert.deepEqual(r.known.map(violationKey), [violationKey(KNOWN[0]!)]);
    assert.deepEqual(r.stale.map(violationKey), [violationKey(KNOWN[1]!)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
