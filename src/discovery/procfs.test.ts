import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { LanguageDetector } from './language.ts';
import {
  bootTimeMs,
  listPids,
  listenPortsByInode,
  parseCmdline,
  parseStat,
  parseTcpListen,
  readEnviron,
  readExe,
  readNetNs,
  readProcess,
  scanAll,
  socketPorts,
} from './procfs.ts';
import { FakeProc, TCP6_HEADER, TCP_HEADER, buildElf, tcpRow } from '../../test/helpers/fakeproc.ts';

const BTIME = 1_700_000_000;
const fp = new FakeProc(BTIME);
after(() => fp.cleanup());

test('parseStat: comm with spaces and parentheses', () => {
  const tail = ' S 42 7 7 0 -1 4194560 1 0 0 0 3 4 0 0 20 0 1 0 123456 1000 10 18446744073709551615';
  assert.deepEqual(parseStat(`1234 (my (weird) proc) name)${tail}`), {
    comm: 'my (weird) proc) name',
    state: 'S',
    ppid: 42,
    startTicks: 123456,
  });
  assert.deepEqual(parseStat(`5 (a)${tail}`), { comm: 'a', state: 'S', ppid: 42, startTicks: 123456 });
  assert.equal(parseStat('garbage'), undefined);
  assert.equal(parseStat('1 (x) S 1 2'), undefined);
});

test('parseCmdline', () => {
  assert.deepEqual(parseCmdline(Buffer.from('python3\0-m\0http.server\0')), ['python3', '-m', 'http.server']);
  assert.deepEqual(parseCmdline(Buffer.from('nginx: master process /usr/sbin/nginx')), ['nginx: master process /usr/sbin/nginx']);
  assert.deepEqual(parseCmdline(Buffer.from('a\0\0b\0')), ['a', '', 'b']);
  assert.deepEqual(parseCmdline(Buffer.alloc(0)), []);
});

test('parseTcpListen keeps LISTEN rows only, IPv4 and IPv6', () => {
  const v4 =
    TCP_HEADER +
    tcpRow(0, '0100007F:1F90', '00000000:0000', '0A', 5001) + // 127.0.0.1:8080 LISTEN
    tcpRow(1, '0100007F:9C40', '0100007F:1F90', '01', 5002) + // established
    tcpRow(2, '00000000:0050', '00000000:0000', '0A', 5003) + // 0.0.0.0:80 LISTEN
    tcpRow(3, '00000000:FFFF', '00000000:0000', '0A', 0); // inode 0 (orphan): skipped
  const v6 = TCP6_HEADER + tcpRow(0, '00000000000000000000000000000000:1F91', '00000000000000000000000000000000:0000', '0A', 6001);
  const m = new Map<number, number>();
  parseTcpListen(Buffer.from(v4), m);
  parseTcpListen(Buffer.from(v6), m);
  assert.deepEqual([...m], [
    [5001, 8080],
    [5003, 80],
    [6001, 8081],
  ]);
  assert.equal(parseTcpListen(Buffer.from(TCP_HEADER), new Map()).size, 0);
  assert.equal(parseTcpListen(Buffer.alloc(0), new Map()).size, 0);
});

test('listenPortsByInode reads procRoot/net/tcp and tcp6', () => {
  writeFileSync(join(fp.root, 'net', 'tcp'), TCP_HEADER + tcpRow(0, '00000000:0016', '00000000:0000', '0A', 777));
  writeFileSync(join(fp.root, 'net', 'tcp6'), TCP6_HEADER + tcpRow(0, '00000000000000000000000000000000:0016', '00000000000000000000000000000000:0000', '0A', 778));
  assert.deepEqual([...listenPortsByInode(fp.root)], [
    [777, 22],
    [778, 22],
  ]);
  assert.equal(listenPortsByInode(fp.root, join(fp.root, 'nonexistent')).size, 0);
});

test('readProcess and scanAll on a fake /proc', () => {
  const nodeExe = fp.file('usr/bin/node', buildElf({ interp: true }));
  const appExe = fp.file('srv/app', buildElf({ sections: ['.gopclntab'] }));
  // a replaced binary: the kernel's link reads `<path> (deleted)` yet still opens the old file
  const deleted = fp.file('srv/app (deleted)', buildElf({ sections: ['.gopclntab'] }));
  const libc = `7f0000000000-7f0000001000 r-xp 00000000 fe:00 1 /lib/ld-linux-x86-64.so.2\n7f0000001000-7f0000002000 r-xp 00000000 fe:00 2 /lib/libc.so.6\n`;
  const hostTcp = TCP_HEADER + tcpRow(0, '0100007F:1F90', '00000000:0000', '0A', 9001) + tcpRow(1, '0100007F:1F90', '0100007F:D000', '01', 9002);
  const hostTcp6 = TCP6_HEADER + tcpRow(0, '00000000000000000000000000000000:1F90', '00000000000000000000000000000000:0000', '0A', 9003);
  // node listening on 8080 over v4 and v6, plus an accepted connection on 8080 and a pipe
  fp.add({
    pid: 300,
    ppid: 1,
    comm: 'node',
    startTicks: 250,
    exe: nodeExe,
    argv: ['node', 'server.js'],
    fds: ['/dev/null', 'socket:[9001]', 'socket:[9002]', 'pipe:[55]', 'socket:[9003]', 'anon_inode:[eventpoll]'],
    netNs: 4026531840,
    tcp: hostTcp,
    tcp6: hostTcp6,
    maps: libc,
  });
  // a containerised Go app in another netns listening on 8080 too (its own table)
  fp.add({
    pid: 400,
    ppid: 300,
    comm: 'app (worker)',
    startTicks: 1000,
    exe: deleted,
    argv: ['/srv/app', '--port', '8080'],
    fds: ['socket:[12345]'],
    netNs: 4026532000,
    tcp: TCP_HEADER + tcpRow(0, '00000000:1F90', '00000000:0000', '0A', 12345),
  });
  // same netns as 400: a scan reads that namespace's table once, through pid 400. To make this
  // observable, 401's own copy (normally identical) lists a socket the shared one lacks.
  fp.add({
    pid: 401,
    ppid: 400,
    exe: appExe,
    argv: ['/srv/app'],
    fds: ['socket:[12346]'],
    netNs: 4026532000,
    tcp: TCP_HEADER + tcpRow(0, '00000000:270F', '00000000:0000', '0A', 12346),
  });
  // kernel thread: no exe
  fp.add({ pid: 2, ppid: 0, comm: 'kthreadd' });
  // a non-numeric entry
  writeFileSync(join(fp.root, 'self-not-a-pid'), '');

  assert.deepEqual(listPids(fp.root), [2, 300, 400, 401]);
  assert.equal(bootTimeMs(fp.root), BTIME * 1000);
  assert.equal(readExe(400, fp.root), appExe);
  assert.equal(readExe(2, fp.root), '');
  assert.equal(readNetNs(300, fp.root), 4026531840);
  assert.equal(readNetNs(2, fp.root), undefined);
  assert.deepEqual(socketPorts(300, new Map([[9001, 8080], [9003, 8080], [1, 1]]), fp.root), [8080]);

  const detector = new LanguageDetector();
  const node = readProcess(300, fp.root, { clockTicks: 100, languageDetector: detector });
  assert.deepEqual(node, {
    pid: 300,
    ppid: 1,
    exePath: nodeExe,
    cmdline: ['node', 'server.js'],
    listenPorts: [8080],
    startTimeMs: BTIME * 1000 + 2500,
    language: 'nodejs',
    netNs: 4026531840,
  });
  const kthread = readProcess(2, fp.root, { clockTicks: 100, languageDetector: detector });
  assert.equal(kthread?.exePath, '');
  assert.deepEqual(kthread?.listenPorts, []);
  assert.equal(readProcess(99999, fp.root), undefined);

  const all = scanAll({ procRoot: fp.root, clockTicks: 100, languageDetector: detector });
  assert.deepEqual(
    all.map((p) => [p.pid, p.exePath, p.language, p.listenPorts, p.startTimeMs - BTIME * 1000]),
    [
      [300, nodeExe, 'nodejs', [8080], 2500],
      [400, appExe, 'go', [8080], 10000],
      [401, appExe, 'go', [], 0],
    ],
  );
  assert.deepEqual(readProcess(401, fp.root, { clockTicks: 100, languageDetector: detector })?.listenPorts, [9999]);
  // another clock rate
  assert.equal(scanAll({ procRoot: fp.root, clockTicks: 250, languageDetector: detector })[1].startTimeMs, BTIME * 1000 + 4000);
});

test('readEnviron', () => {
  fp.add({ pid: 500, exe: '/bin/true', environ: { OTEL_SERVICE_NAME: 'checkout', A: 'x=y', EMPTY: '' } });
  const env = readEnviron(500, fp.root);
  assert.ok(env);
  assert.deepEqual([...env], [
    ['OTEL_SERVICE_NAME', 'checkout'],
    ['A', 'x=y'],
    ['EMPTY', ''],
  ]);
  assert.equal(readEnviron(501, fp.root), undefined);
});

test('parsers never throw on arbitrary input', () => {
  const row = fc
    .tuple(fc.nat(99), fc.stringMatching(/^[0-9A-Fa-fx:]{0,14}$/), fc.constantFrom('0A', '01', '0a', 'zz', ''), fc.stringMatching(/^[0-9a-z]{0,8}$/))
    .map(([sl, local, st, inode]) => `${sl}: ${local} 00000000:0000 ${st} 0:0 0:0 0 0 0 ${inode} 1\n`);
  fc.assert(
    fc.property(fc.array(row, { maxLength: 6 }), fc.uint8Array({ maxLength: 64 }), (rows, junk) => {
      const m = new Map<number, number>();
      parseTcpListen(Buffer.concat([Buffer.from(TCP_HEADER + rows.join('')), Buffer.from(junk)]), m);
      for (const [inode, port] of m) {
        if (!Number.isSafeInteger(inode) || inode <= 0 || port < 0 || port > 0xffff) return false;
      }
      parseStat(Buffer.from(junk).toString('latin1'));
      parseCmdline(Buffer.from(junk));
      return true;
    }),
    { numRuns: 500 },
  );
});
