import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { checkFixture, loadFixtures } from '../../../test/helpers/protocol-fixtures.ts';
import { dnsTcpParser, dnsUdpParser } from './index.ts';

// byte captures of dig against dnsmasq (test/helpers/dns-capture.ts)
const cases = loadFixtures(fileURLToPath(new URL('./fixtures/', import.meta.url)));

test('dns fixtures are present', () => {
  assert.ok(cases.length >= 5, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`${c.file}: ${c.name} (whole, every split, byte by byte)`, () => {
    assert.deepEqual(checkFixture(c.file.endsWith('tcp.md') ? dnsTcpParser : dnsUdpParser, c), []);
  });
}
