/**
 * `telemetry.sdk.language` detection, following OBI's language decorator (obi-compat §6 step 3)
 * as far as /proc allows:
 *
 * 1. runtime libraries in /proc/PID/maps: libcoreclr.so → dotnet, libjvm.so → java,
 *    libpython3*.so → python, libruby*.so → ruby, libnode.so → nodejs
 * 2. ELF sections of the executable: `.gopclntab` / `.go.buildinfo` → go
 *    (before any name check, so a Go program called `node` is still go)
 * 3. executable base name: node → nodejs, deno, python* → python, ruby* → ruby, java → java,
 *    dotnet, php* → php
 * 4. defined function symbols: `rust_panic` → rust, `JVM_*` / `graal_*` → java (native image);
 *    skipped for symbol tables above MAX_SYMBOL_SCAN_BYTES
 * 5. libstdc++.so / libc++.so mapped → cpp
 * 6. generic
 *
 * Step 3 runs before step 4 (OBI scans symbols first): it spares the symbol scan of big runtimes
 * such as node. The result is cached per executable (device + inode of /proc/PID/exe), with one
 * exception: a dynamically linked executable whose maps show no shared library besides the
 * loader has not finished loading (just exec'ed), so its answer is not cached.
 */
import { readFileSync, statSync } from 'node:fs';
import { readElfInfo, scanSymbols, withFile } from './elf.ts';

export type Language = 'go' | 'java' | 'nodejs' | 'python' | 'ruby' | 'dotnet' | 'php' | 'rust' | 'cpp' | 'deno' | 'generic';

const LIBPYTHON = /(?:^|\/)libpython3[\d.]*\.so/;
const LIBRUBY = /(?:^|\/)libruby[-\d.]*\.so/;

/** Step 1: runtimes recognisable with certainty from a mapped library. */
export function languageFromLibrary(path: string): Language | undefined {
  if (path.includes('libcoreclr.so')) return 'dotnet';
  if (path.includes('libjvm.so')) return 'java';
  if (LIBPYTHON.test(path)) return 'python';
  if (LIBRUBY.test(path)) return 'ruby';
  if (path.includes('libnode.so')) return 'nodejs';
  return undefined;
}

/** Step 3: the executable's base name. */
export function languageFromExeName(exePath: string): Language | undefined {
  const base = exePath.slice(exePath.lastIndexOf('/') + 1);
  if (base === 'node' || base === 'nodejs') return 'nodejs';
  if (base === 'deno') return 'deno';
  if (base.startsWith('python')) return 'python';
  if (base.startsWith('ruby')) return 'ruby';
  if (base === 'java') return 'java';
  if (base === 'dotnet') return 'dotnet';
  if (base.startsWith('php')) return 'php';
  return undefined;
}

/** Step 5: a C++ runtime mapped. */
export function isCppRuntime(path: string): boolean {
  return path.includes('libstdc++.so') || path.includes('libc++.so');
}

/** File paths of the mappings in a /proc/PID/maps text, deduplicated, in order of appearance. */
export function mappedFiles(maps: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let lineStart = 0;
  while (lineStart < maps.length) {
    let lineEnd = maps.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = maps.length;
    // the path is the 6th column and begins with '/'; it may contain spaces
    const slash = maps.indexOf(' /', lineStart);
    if (slash >= 0 && slash < lineEnd) {
      const p = maps.slice(slash + 1, lineEnd);
      if (!seen.has(p)) {
        seen.add(p);
        out.push(p);
      }
    }
    lineStart = lineEnd + 1;
  }
  return out;
}

export interface ExeElfFacts {
  readonly isGo: boolean;
  readonly hasInterp: boolean;
}

function elfFacts(fd: number): (ExeElfFacts & { symbols: () => Language | undefined }) | undefined {
  const info = readElfInfo(fd);
  if (!info) return undefined;
  let isGo = false;
  for (const s of info.sections) {
    if (s.name === '.gopclntab' || s.name === '.go.buildinfo') {
      isGo = true;
      break;
    }
  }
  return { isGo, hasInterp: info.hasInterp, symbols: () => scanSymbols(fd, info) };
}

/**
 * Runs steps 1–6 on already-gathered facts. `exeFile` is a path the executable can be opened
 * by (`/proc/PID/exe` works across mount namespaces and for deleted files).
 */
export function classify(exePath: string, exeFile: string, libs: readonly string[]): { language: Language; ready: boolean } {
  for (const l of libs) {
    const t = languageFromLibrary(l);
    if (t) return { language: t, ready: true };
  }
  const fromElf = withFile(exeFile, (fd) => {
    const f = elfFacts(fd);
    if (!f) return { language: undefined, hasInterp: false };
    if (f.isGo) return { language: 'go' as Language, hasInterp: f.hasInterp };
    const byName = languageFromExeName(exePath);
    if (byName) return { language: byName, hasInterp: f.hasInterp };
    return { language: f.symbols(), hasInterp: f.hasInterp };
  });
  let soCount = 0;
  for (const l of libs) if (l.includes('.so')) soCount++;
  // A dynamic executable maps at least the loader and libc once it runs its own code.
  const ready = !(fromElf?.hasInterp && soCount <= 1);
  if (fromElf?.language) return { language: fromElf.language, ready };
  if (!fromElf) {
    const byName = languageFromExeName(exePath);
    if (byName) return { language: byName, ready };
  }
  for (const l of libs) if (isCppRuntime(l)) return { language: 'cpp', ready };
  return { language: 'generic', ready };
}

/** Bounded per-executable cache: key `dev:ino` → language. */
export class LanguageDetector {
  readonly maxEntries: number;
  private readonly _cache = new Map<string, Language>();
  /** number of detections that read maps and the ELF file (cache misses) */
  inspections = 0;

  constructor(maxEntries = 4096) {
    this.maxEntries = maxEntries;
  }

  /** Language of process `pid` whose resolved executable is `exePath`. */
  detect(pid: number, exePath: string, procRoot = '/proc'): Language {
    const exeFile = `${procRoot}/${pid}/exe`;
    let key: string | undefined;
    try {
      const st = statSync(exeFile, { bigint: true });
      key = `${st.dev}:${st.ino}`;
      const hit = this._cache.get(key);
      if (hit !== undefined) return hit;
    } catch {
      // gone or not permitted: detect without caching
    }
    this.inspections++;
    let libs: string[] = [];
    try {
      libs = mappedFiles(readFileSync(`${procRoot}/${pid}/maps`, 'latin1'));
    } catch {
      // maps unreadable (process gone, no ptrace access): ELF and name only
    }
    const { language, ready } = classify(exePath, exeFile, libs);
    if (key !== undefined && ready) {
      if (this._cache.size >= this.maxEntries) {
        const oldest = this._cache.keys().next().value;
        if (oldest !== undefined) this._cache.delete(oldest);
      }
      this._cache.set(key, language);
    }
    return language;
  }

  clear(): void {
    this._cache.clear();
  }

  get size(): number {
    return this._cache.size;
  }
}

/** Process-wide detector used by procfs.ts unless one is passed in. */
export const defaultLanguageDetector = new LanguageDetector();
