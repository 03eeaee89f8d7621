import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceResourceAttributes } from './resource.ts';

const svc = { name: 'checkout', namespace: 'shop', instanceId: 'box:1234', pid: 1234, exePath: '/usr/bin/python3.12', language: 'python' };

test("resource attributes: OBI's set and order, distro obi-ts", () => {
  const attrs = serviceResourceAttributes(svc, { hostName: 'box', hostId: 'f00d' }, { version: '0.1.0' });
  assert.deepEqual(Object.entries(attrs), [
    ['service.name', 'checkout'],
    ['telemetry.sdk.language', 'python'],
    ['telemetry.sdk.name', 'opentelemetry'],
    ['telemetry.sdk.version', '0.1.0'],
    ['telemetry.distro.name', 'obi-ts'],
    ['telemetry.distro.version', '0.1.0'],
    ['host.name', 'box'],
    ['host.id', 'f00d'],
    ['os.type', 'linux'],
    ['service.namespace', 'shop'],
    ['service.instance.id', 'box:1234'],
  ]);
});

test('no namespace and no host id: both left out', () => {
  const attrs = serviceResourceAttributes({ ...svc, namespace: '' }, { hostName: 'box', hostId: '' }, { version: '1' });
  assert.equal('service.namespace' in attrs, false);
  assert.equal('host.id' in attrs, false);
});

test("the target's OTEL_RESOURCE_ATTRIBUTES add attributes but cannot change the identity", () => {
  const processAttributes = new Map([
    ['deployment.environment.name', 'prod'],
    ['service.version', '2.1'],
    ['service.name', 'ignored'],
    ['service.instance.id', 'ignored'],
    ['telemetry.sdk.language', 'ignored'],
    ['host.name', 'override-host'],
    ['unexpanded', '${VAR}'],
  ]);
  const attrs = serviceResourceAttributes(svc, { hostName: 'box', hostId: '' }, { version: '1', processAttributes });
  assert.equal(attrs['deployment.environment.name'], 'prod');
  assert.equal(attrs['service.version'], '2.1');
  assert.equal(attrs['service.name'], 'checkout');
  assert.equal(attrs['service.instance.id'], 'box:1234');
  assert.equal(attrs['telemetry.sdk.language'], 'python');
  assert.equal(attrs['host.name'], 'override-host');
  assert.equal('unexpanded' in attrs, false);
});
