import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOST_ID_SOURCES, hostIdAttribute, readHostId } from './host.ts';

test('readHostId: override, then the first usable machine-id file, else empty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'obi-hostid-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  writeFileSync(b, 'abc123\n');
  assert.equal(readHostId(' forced ', [a, b]), 'forced');
  assert.equal(readHostId(undefined, [a, b]), 'abc123');
  assert.equal(readHostId('', [a]), '');
  writeFileSync(a, '\n');
  assert.equal(readHostId(undefined, [a, b]), 'abc123');
  writeFileSync(a, 'uninitialized\n');
  assert.equal(readHostId(undefined, [a, b]), 'abc123');
});

test('readHostId: a machine without machine id falls back to the DMI product UUID (lower-cased), all-zero UUIDs skipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'obi-hostid-'));
  const uuid = join(dir, 'product_uuid');
  const zero = join(dir, 'zero_uuid');
  writeFileSync(uuid, 'EC2A1B2C-3D4E-5F60-7182-93A4B5C6D7E8\n');
  writeFileSync(zero, '00000000-0000-0000-0000-000000000000\n');
  const sources = [
    { path: join(dir, 'missing-machine-id'), kind: 'machine-id' as const },
    { path: zero, kind: 'dmi-uuid' as const },
    { path: uuid, kind: 'dmi-uuid' as const },
  ];
  assert.equal(readHostId(undefined, sources), 'ec2a1b2c-3d4e-5f60-7182-93a4b5c6d7e8');
  assert.equal(readHostId(undefined, sources.slice(0, 2)), '');
});

test('the default sources: own root, the host root through PID 1 (pid: host), then DMI', () => {
  assert.deepEqual(
    HOST_ID_SOURCES.map((s) => s.path),
    ['/etc/machine-id', '/var/lib/dbus/machine-id', '/proc/1/root/etc/machine-id', '/proc/1/root/var/lib/dbus/machine-id', '/sys/class/dmi/id/product_uuid'],
  );
});

test('hostIdAttribute: never an empty host.id', () => {
  assert.deepEqual(hostIdAttribute(''), {});
  assert.deepEqual(hostIdAttribute('m1'), { 'host.id': 'm1' });
});
