/**
 * Exec admission facts: what the kernel checks at `sched_process_exec` to trace a newly exec'd
 * process before it runs its first instruction (bpf/common/exec_admit.h), so a short-lived
 * process selected by executable path or language is captured from its first byte.
 *
 * The kernel sees only the base name of the executable, so each selector that can select a
 * process at exec (exe_path, exe_path_regexp, languages, cmd_args; not open_ports or
 * target_pids, which need a listening port or a known pid) is reduced to base-name facts:
 *
 * - exe_path: per brace alternative, an exact base name (`*\/curl`, `/usr/bin/{curl,wget}`),
 *   a suffix (`*\/bin/*server`) or a prefix (`*\/python3*`) of it (glob.ts `globBaseFacts`);
 * - languages: the names language.ts tells a language by (nodejs: node, nodejs; deno; java;
 *   dotnet: exact; python, ruby, php: name prefixes), for every language the glob matches;
 *   a glob that matches go, rust, cpp or generic (told by ELF contents, not names) has no facts.
 *
 * Facts are a superset of the selector (but for a prefix fact when the glob's trailing `*`
 * matches a `/`: glob.ts): user space confirms each admission with the full selector (excludes,
 * system paths, cmd_args) and revokes the others (`ProcessLifecycle.revokedAdmissions`). A
 * selector with no fact (`*\/bin/*`, an exe_path_regexp, cmd_args alone, languages told by ELF
 * contents) and a process its facts miss are selected from user space as before, a few
 * milliseconds after exec; `unsupported` lists those selectors so the agent can say so.
 */
import { compileGlob, globBaseFacts } from '../common/glob.ts';
import type { Selector } from '../common/selector.ts';

export interface ExecFact {
  /** exact base name, or its first bytes when `prefix`, its last when `suffix` */
  readonly name: string;
  readonly prefix: boolean;
  readonly suffix?: boolean;
  /** what the kernel compares: the name's UTF-8 bytes, at most nameLen - 1 */
  readonly bytes: Buffer;
  /** 1-based index of the include selector it came from */
  readonly selector: number;
}

export interface ExecAdmissionPlan {
  readonly facts: readonly ExecFact[];
  /** bit n set: prefix facts of n bytes exist (the `exec_prefix_lens` tunable) */
  readonly prefixLengths: number;
  /** bit n set: suffix facts of n bytes exist (the `exec_suffix_lens` tunable) */
  readonly suffixLengths: number;
  /** include selectors that could select at exec but have no facts (selected from user space) */
  readonly unsupported: readonly Selector[];
}

/** the base-name facts language.ts (`languageFromExeName`) tells each language by */
const LANGUAGE_NAMES: Readonly<Record<string, readonly { name: string; prefix: boolean }[] | undefined>> = {
  nodejs: [
    { name: 'node', prefix: false },
    { name: 'nodejs', prefix: false },
  ],
  deno: [{ name: 'deno', prefix: false }],
  python: [{ name: 'python', prefix: true }],
  ruby: [{ name: 'ruby', prefix: true }],
  java: [{ name: 'java', prefix: false }],
  dotnet: [{ name: 'dotnet', prefix: false }],
  php: [{ name: 'php', prefix: true }],
  // told by ELF sections, symbols or mapped libraries: no name to test in the kernel
  go: undefined,
  rust: undefined,
  cpp: undefined,
  generic: undefined,
};

function languageFacts(glob: string): { name: string; prefix: boolean }[] | undefined {
  const m = compileGlob(glob);
  const out: { name: string; prefix: boolean }[] = [];
  for (const [lang, names] of Object.entries(LANGUAGE_NAMES)) {
    if (!m(lang)) continue;
    if (!names) return undefined;
    out.push(...names);
  }
  return out.length > 0 ? out : undefined;
}

/** whether a selector can select a process at the moment it execs */
function selectsAtExec(s: Selector): boolean {
  if ((s.openPorts && s.openPorts.length > 0) || (s.targetPids && s.targetPids.length > 0)) return false;
  return s.exePath !== undefined || s.exePathRegexp !== undefined || s.languages !== undefined || s.cmdArgs !== undefined;
}

/**
 * The facts for `include` (the `discovery.instrument` selectors, in order). `nameLen` is the
 * kernel's OBI_EXEC_NAME_LEN: names are compared on at most `nameLen - 1` bytes.
 */
export function planExecAdmission(include: readonly Selector[], nameLen: number): ExecAdmissionPlan {
  const MAX_NAME = nameLen - 1;
  const facts: ExecFact[] = [];
  const unsupported: Selector[] = [];
  let prefixLengths = 0;
  let suffixLengths = 0;
  const seen = new Set<string>();
  include.forEach((s, i) => {
    if (!selectsAtExec(s)) return;
    // every criterion of a selector must hold, so the facts of any one of them are a superset
    let names: { name: string; prefix: boolean; suffix?: boolean }[] | undefined;
    if (s.exePath !== undefined) names = globBaseFacts(s.exePath)?.map((f) => ({ name: f.text, prefix: f.kind === 'prefix', suffix: f.kind === 'suffix' }));
    if (!names && s.languages !== undefined) names = languageFacts(s.languages);
    if (!names) {
      unsupported.push(s);
      return;
    }
    for (const f of names) {
      // the kernel compares at most MAX_NAME bytes: a longer name becomes a prefix fact
      let bytes = Buffer.from(f.name);
      let prefix = f.prefix;
      const suffix = f.suffix === true;
      if (suffix && bytes.length >= MAX_NAME) {
        // the kernel tests suffixes of names shorter than MAX_NAME bytes only
        if (!unsupported.includes(s)) unsupported.push(s);
        continue;
      }
      if (bytes.length > MAX_NAME) {
        bytes = bytes.subarray(0, MAX_NAME);
        prefix = true;
      }
      if (bytes.length === 0) continue;
      const id = `${suffix ? 's' : ''}${prefix || suffix ? bytes.length : 0}:${bytes.toString('hex')}`;
      if (seen.has(id)) continue;
      seen.add(id);
      facts.push({ name: f.name, bytes, prefix, suffix, selector: i + 1 });
      if (prefix) prefixLengths |= 1 << bytes.length;
      if (suffix) suffixLengths |= 1 << bytes.length;
    }
  });
  return { facts, prefixLengths: prefixLengths >>> 0, suffixLengths: suffixLengths >>> 0, unsupported };
}
