/**
 * Detaching a tracepoint or probe link waits for RCU grace periods in the kernel (~70 ms per
 * link on the CI kernel). The agent detaches at run time (the SIGUSR1 probe of each Node.js
 * process it attaches to, TLS libraries no process maps any more), and while its only thread
 * waits, the ring buffer fills: under a 64 KiB HTTP capture, the Node.js attach's two
 * synchronous detaches lost ~600 events at start-up. BpfObject.detachAsync takes the link out of
 * the object at once and tears it down on a libuv worker. Checked here against the real kernel:
 * the event loop turns while the teardown runs, the kernel's link is gone when the promise
 * resolves, and the object no longer knows the link.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfObject } from '../../src/native/binding.ts';
import { run } from '../helpers/harness.ts';

const PROG = 'obi_sigprobe_epoll_wait';

/** kernel link ids whose program is named `name` (bpftool truncates names to 15 characters) */
async function linksOf(name: string): Promise<number[]> {
  const progs = JSON.parse(await run('bpftool', ['prog', 'show', '-j'])) as { id: number; name?: string }[];
  const ids = new Set(progs.filter((p) => p.name !== undefined && name.startsWith(p.name)).map((p) => p.id));
  const links = JSON.parse(await run('bpftool', ['link', 'show', '-j'])) as { id: number; prog_id: number }[];
  return links.filter((l) => ids.has(l.prog_id)).map((l) => l.id);
}

describe('native: detachAsync', () => {
  let bpf: BpfObject;

  before(() => {
    bpf = new BpfObject();
    // what needs CAP_NET_ADMIN and is not under test stays out
    for (const p of ['obi_sockops', 'obi_sk_msg', 'obi_sk_skb']) bpf.setAutoload(p, false);
    bpf.setMapAutocreate('prop_sockmap', false);
    bpf.load();
  });

  after(() => bpf?.close());

  test('a tracepoint link: gone from the object at once, from the kernel when the promise resolves, the event loop running meanwhile', async () => {
    const link = bpf.attach(PROG);
    const kernelLinks = await linksOf(PROG);
    assert.equal(kernelLinks.length, 1, `one kernel link for ${PROG}`);

    let turns = 0;
    let done = false;
    const spin = (): void => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const p = bpf.detachAsync(link);
    assert.throws(() => bpf.detach(link), /no such link/, 'the object forgot the link before the teardown finished');
    await p;
    done = true;
    // a synchronous teardown would settle the promise before any setImmediate callback runs
    assert.ok(turns >= 1, `the event loop turned ${turns} times during the teardown`);
    assert.deepEqual(await linksOf(PROG), [], 'the kernel link is gone');
  });

  test('an unknown link id is refused at once', () => {
    assert.throws(() => bpf.detachAsync(999), /no such link/);
  });
});
