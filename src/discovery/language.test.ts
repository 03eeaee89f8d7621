import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { readElfInfo, scanSymbols, withFile } from './elf.ts';
import { LanguageDetector, classify, isCppRuntime, languageFromExeName, languageFromLibrary, mappedFiles } from './language.ts';
import { FakeProc, buildElf } from '../../test/helpers/fakeproc.ts';

const fp = new FakeProc();
after(() => fp.cleanup());

const mapsLine = (path: string, ino = 1000): string =>
  `7f0000000000-7f0000001000 r-xp 00000000 fe:00 ${ino}                     ${path}\n`;

test('languageFromLibrary (maps, high certainty)', () => {
  assert.equal(languageFromLibrary('/usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.1/libcoreclr.so'), 'dotnet');
  assert.equal(languageFromLibrary('/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so'), 'java');
  assert.equal(languageFromLibrary('/home/u/.pyenv/versions/3.12.3/lib/libpython3.12.so.1.0'), 'python');
  assert.equal(languageFromLibrary('/usr/lib/libpython3.so'), 'python');
  assert.equal(languageFromLibrary('libpython3'), undefined);
  assert.equal(languageFromLibrary('/usr/lib/x86_64-linux-gnu/libruby-3.2.so.3.2.3'), 'ruby');
  assert.equal(languageFromLibrary('/usr/lib/libruby.so.3.3'), 'ruby');
  assert.equal(languageFromLibrary('libruby-3.2'), undefined);
  assert.equal(languageFromLibrary('/usr/lib/x86_64-linux-gnu/libnode.so.109'), 'nodejs');
  assert.equal(languageFromLibrary('/usr/lib/x86_64-linux-gnu/libc.so.6'), undefined);
  assert.equal(languageFromLibrary('/usr/lib/libj9vm29.so'), undefined);
});

test('languageFromExeName', () => {
  assert.equal(languageFromExeName('/usr/bin/node'), 'nodejs');
  assert.equal(languageFromExeName('/usr/bin/nodejs'), 'nodejs');
  assert.equal(languageFromExeName('/usr/bin/deno'), 'deno');
  assert.equal(languageFromExeName('/usr/bin/python3.12'), 'python');
  assert.equal(languageFromExeName('/usr/bin/python'), 'python');
  assert.equal(languageFromExeName('/usr/bin/ruby3.1'), 'ruby');
  assert.equal(languageFromExeName('/usr/lib/jvm/bin/java'), 'java');
  assert.equal(languageFromExeName('/usr/bin/dotnet'), 'dotnet');
  assert.equal(languageFromExeName('/usr/sbin/php-fpm8.2'), 'php');
  assert.equal(languageFromExeName('/usr/bin/php'), 'php');
  assert.equal(languageFromExeName('/usr/bin/nodemon'), undefined);
  assert.equal(languageFromExeName('/opt/python/bin/app'), undefined);
  assert.equal(languageFromExeName('/usr/sbin/nginx'), undefined);
});

test('isCppRuntime', () => {
  assert.equal(isCppRuntime('/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.33'), true);
  assert.equal(isCppRuntime('/usr/lib/libc++.so.1'), true);
  assert.equal(isCppRuntime('libstdc++'), false);
  assert.equal(isCppRuntime('/usr/lib/libc.so.6'), false);
});

test('mappedFiles: paths in order, deduplicated, spaces kept, anonymous skipped', () => {
  const maps =
    mapsLine('/usr/bin/my app') +
    mapsLine('/usr/bin/my app') +
    '7f0000002000-7f0000003000 rw-p 00000000 00:00 0 \n' +
    '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]\n' +
    mapsLine('/usr/lib/libc.so.6') +
    mapsLine('/usr/lib/old.so (deleted)');
  assert.deepEqual(mappedFiles(maps), ['/usr/bin/my app', '/usr/lib/libc.so.6', '/usr/lib/old.so (deleted)']);
});

test('ELF: sections, PT_INTERP and symbol hints', () => {
  const go = fp.file('go-app', buildElf({ sections: ['.text', '.gopclntab'] }));
  const info = withFile(go, readElfInfo);
  assert.ok(info);
  assert.deepEqual(info.sections.map((s) => s.name), ['', '.text', '.gopclntab', '.shstrtab']);
  assert.equal(info.hasInterp, false);
  assert.equal(info.is64, true);

  const dyn = fp.file('dyn', buildElf({ interp: true }));
  assert.equal(withFile(dyn, readElfInfo)?.hasInterp, true);

  const rust = fp.file('rust-app', buildElf({ symbols: [{ name: 'main' }, { name: '_ZN3std9panicking10rust_panic17h1234E' }] }));
  assert.equal(withFile(rust, (fd) => scanSymbols(fd, readElfInfo(fd)!)), 'rust');

  // undefined (value 0) or non-function symbols do not count
  const importOnly = fp.file('imports', buildElf({ symbols: [{ name: 'rust_panic', value: 0 }, { name: 'JVM_x', type: 1 }] }));
  assert.equal(withFile(importOnly, (fd) => scanSymbols(fd, readElfInfo(fd)!)), undefined);

  const graal = fp.file('native-image', buildElf({ symbols: [{ name: 'graal_create_isolate' }] }));
  assert.equal(withFile(graal, (fd) => scanSymbols(fd, readElfInfo(fd)!)), 'java');

  // first hit in table order decides
  const both = fp.file('both', buildElf({ symbols: [{ name: 'rust_panic' }, { name: 'JVM_GetVersion' }] }));
  assert.equal(withFile(both, (fd) => scanSymbols(fd, readElfInfo(fd)!)), 'rust');

  const notElf = fp.file('script.sh', '#!/bin/sh\necho hi\n');
  assert.equal(withFile(notElf, readElfInfo), undefined);
  assert.equal(withFile(`${fp.files}/missing`, readElfInfo), undefined);
});

test('classify: detection order', () => {
  const goNamedNode = fp.file('go/node', buildElf({ sections: ['.go.buildinfo'] }));
  assert.deepEqual(classify('/usr/bin/node', goNamedNode, []), { language: 'go', ready: true });

  const plain = fp.file('plain', buildElf({ interp: true }));
  const libc = ['/usr/lib/ld-linux-x86-64.so.2', '/usr/lib/libc.so.6'];
  // maps libraries beat everything
  assert.equal(classify('/opt/app/server', plain, [...libc, '/usr/lib/jvm/lib/server/libjvm.so']).language, 'java');
  // exe name
  assert.equal(classify('/usr/bin/python3.11', plain, libc).language, 'python');
  // symbols when the name says nothing
  const rust = fp.file('rusty', buildElf({ interp: true, symbols: [{ name: 'rust_panic' }] }));
  assert.equal(classify('/srv/api', rust, libc).language, 'rust');
  // name before symbols: a node binary is not scanned for rust_panic
  assert.equal(classify('/usr/bin/node', rust, libc).language, 'nodejs');
  // C++ runtime last
  assert.equal(classify('/srv/api', plain, [...libc, '/usr/lib/libstdc++.so.6']).language, 'cpp');
  assert.deepEqual(classify('/srv/api', plain, libc), { language: 'generic', ready: true });
  // dynamically linked but only the loader mapped yet: not ready
  assert.deepEqual(classify('/srv/api', plain, ['/srv/api', '/usr/lib/ld-linux-x86-64.so.2']), { language: 'generic', ready: false });
  // static binaries are ready with no libraries at all
  const stat = fp.file('static', buildElf({}));
  assert.deepEqual(classify('/srv/static', stat, ['/srv/static']), { language: 'generic', ready: true });
  // unreadable executable: name only
  assert.equal(classify('/usr/bin/ruby', `${fp.files}/nope`, []).language, 'ruby');
});

test('LanguageDetector caches per executable inode', () => {
  const exe = fp.file('bin/python3.12', buildElf({ interp: true }));
  const libs = mapsLine(exe) + mapsLine('/lib/ld-linux-x86-64.so.2') + mapsLine('/lib/libc.so.6');
  fp.add({ pid: 100, exe, maps: libs });
  fp.add({ pid: 101, exe, maps: libs });
  const d = new LanguageDetector(2);
  assert.equal(d.detect(100, exe, fp.root), 'python');
  assert.equal(d.detect(101, exe, fp.root), 'python');
  assert.equal(d.inspections, 1);
  assert.equal(d.size, 1);

  // not ready (only the loader mapped): not cached
  const early = fp.file('bin/early', buildElf({ interp: true }));
  fp.add({ pid: 102, exe: early, maps: mapsLine(early) + mapsLine('/lib/ld-linux-x86-64.so.2') });
  assert.equal(d.detect(102, early, fp.root), 'generic');
  assert.equal(d.detect(102, early, fp.root), 'generic');
  assert.equal(d.inspections, 3);
  assert.equal(d.size, 1);

  // bounded: the oldest entry goes
  const a = fp.file('bin/a', buildElf({}));
  const b = fp.file('bin/b', buildElf({}));
  fp.add({ pid: 103, exe: a });
  fp.add({ pid: 104, exe: b });
  d.detect(103, a, fp.root);
  d.detect(104, b, fp.root);
  assert.equal(d.size, 2);
  assert.equal(d.detect(100, exe, fp.root), 'python');
  assert.equal(d.inspections, 6);
});

test('ELF reader never throws on corrupted files', () => {
  const good = buildElf({ interp: true, sections: ['.gopclntab'], symbols: [{ name: 'rust_panic' }, { name: 'JVM_x' }] });
  const path = `${fp.files}/corrupt`;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }), fc.nat(good.length), (edits, cut) => {
      const b = Buffer.from(good.subarray(0, Math.max(cut, 8)));
      for (const [at, v] of edits) if (at >= 4 && at < b.length) b[at] = v; // keep the magic
      writeFileSync(path, b);
      const fd = openSync(path, 'r');
      try {
        const info = readElfInfo(fd);
        if (info) scanSymbols(fd, info);
      } finally {
        closeSync(fd);
      }
    }),
    { numRuns: 1000 },
  );
});
