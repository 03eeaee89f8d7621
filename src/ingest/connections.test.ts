import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionTracker } from './connections.ts';
import { ObiEventType, ObiRole, type ObiConnEvent } from '../abi/events.ts';

function connEvent(pid: number, sockId: bigint, ts: number): ObiConnEvent {
  return {
    hdrType: ObiEventType.OBI_EV_CONN,
    hdrPid: pid,
    hdrTsNs: ts,
    sockId,
    tid: pid,
    fd: 3,
    role: ObiRole.OBI_ROLE_SERVER,
    tupleLocalAddr: new Uint8Array(16),
    tupleRemoteAddr: new Uint8Array(16),
    tupleLocalPort: 8080,
    tupleRemotePort: 40000,
    tupleFamily: 10,
    unixPath: '',
  };
}

test('at the connection cap the connection created first is evicted, and counted', () => {
  const t = new ConnectionTracker({ sink: () => {}, identify: () => undefined, maxConnections: 2 });
  t.onConn(connEvent(1, 10n, 1));
  t.onConn(connEvent(2, 20n, 2));
  assert.equal(t.size, 2);
  t.onConn(connEvent(1, 30n, 3));
  assert.equal(t.size, 2);
  assert.equal(t.counters.connectionsEvicted, 1);
  assert.equal(t.counters.connectionsOpened, 3);
  // the evicted one (pid 1, sock 10) is gone: closing it changes nothing, closing a live one does
  t.onClose(connEvent(1, 10n, 4));
  assert.equal(t.size, 2);
  t.onClose(connEvent(2, 20n, 5));
  assert.equal(t.size, 1);
  t.dropPid(1, 6);
  assert.equal(t.size, 0);
});
