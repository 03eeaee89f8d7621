import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { identityFromEnv, parseResourceAttributes, serviceIdentity } from './service.ts';
import { FakeProc } from '../../test/helpers/fakeproc.ts';
import type { ProcessInfo } from './types.ts';

const p: ProcessInfo = {
  pid: 4242,
  ppid: 1,
  exePath: '/usr/local/bin/python3.12',
  cmdline: ['python3', 'app.py'],
  listenPorts: [8000],
  startTimeMs: 0,
  language: 'python',
};

const env = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o));

test('parseResourceAttributes', () => {
  assert.deepEqual([...parseResourceAttributes(' service.name = shop ,deployment.environment=prod,bad,=x,k=a%2Cb%3Dc,k2=%zz')], [
    ['service.name', 'shop'],
    ['deployment.environment', 'prod'],
    ['k', 'a,b=c'],
    ['k2', '%zz'],
  ]);
  assert.deepEqual([...parseResourceAttributes('')], []);
});

test('name: selector > OTEL_SERVICE_NAME > OTEL_RESOURCE_ATTRIBUTES > exe base name', () => {
  const e = env({ OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,service.namespace=shop' });
  assert.equal(identityFromEnv(p, { name: 'from-selector' }, 'h', e).name, 'from-selector');
  assert.equal(identityFromEnv(p, {}, 'h', e).name, 'from-env');
  assert.equal(identityFromEnv(p, undefined, 'h', env({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' })).name, 'from-attrs');
  assert.equal(identityFromEnv(p, undefined, 'h', env({})).name, 'python3.12');
  assert.equal(identityFromEnv(p, undefined, 'h', undefined).name, 'python3.12');
  // unexpanded `$…` and empty values are skipped
  assert.equal(identityFromEnv(p, undefined, 'h', env({ OTEL_SERVICE_NAME: '${SVC}', OTEL_RESOURCE_ATTRIBUTES: 'service.name=$NAME' })).name, 'python3.12');
  assert.equal(identityFromEnv(p, undefined, 'h', env({ OTEL_SERVICE_NAME: '', OTEL_RESOURCE_ATTRIBUTES: 'service.name=ok' })).name, 'ok');
  // no executable: argv[0]
  assert.equal(identityFromEnv({ ...p, exePath: '' }, undefined, 'h', undefined).name, 'python3');
  assert.equal(identityFromEnv({ ...p, exePath: '', cmdline: [] }, undefined, 'h', undefined).name, 'unknown');
});

test('namespace and the rest of the identity', () => {
  const e = env({ OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=shop' });
  assert.deepEqual(identityFromEnv(p, undefined, 'host-1', e), {
    name: 'python3.12',
    namespace: 'shop',
    instanceId: 'host-1:4242',
    pid: 4242,
    exePath: '/usr/local/bin/python3.12',
    language: 'python',
  });
  assert.equal(identityFromEnv(p, { namespace: 'sel-ns' }, 'h', e).namespace, 'sel-ns');
  assert.equal(identityFromEnv(p, undefined, 'h', env({ OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=$NS' })).namespace, '');
  assert.equal(identityFromEnv(p, undefined, 'h', undefined).namespace, '');
});

test('serviceIdentity reads /proc/PID/environ and degrades without it', () => {
  const fp = new FakeProc();
  after(() => fp.cleanup());
  fp.add({ pid: 4242, exe: '/usr/local/bin/python3.12', environ: { OTEL_SERVICE_NAME: 'payments', OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=shop' } });
  const id = serviceIdentity(p, undefined, 'host-1', fp.root);
  assert.equal(id.name, 'payments');
  assert.equal(id.namespace, 'shop');
  // environ missing (no permission, process gone): executable name
  const id2 = serviceIdentity({ ...p, pid: 4343 }, undefined, 'host-1', fp.root);
  assert.equal(id2.name, 'python3.12');
  assert.equal(id2.instanceId, 'host-1:4343');
});
