/** Discovery: /proc inspection, language detection, selectors and service identity. */
export { LanguageDetector, classify, defaultLanguageDetector, languageFromExeName, languageFromLibrary, mappedFiles } from './language.ts';
export type { Language } from './language.ts';
export { DEFAULT_EXCLUDED_SYSTEM_PATHS, DEFAULT_EXCLUDE_INSTRUMENT, Matcher } from './match.ts';
export type { MatcherOptions } from './match.ts';
export {
  bootTimeMs,
  clockTicksPerSecond,
  listPids,
  listenPortsByInode,
  parseCmdline,
  parseStat,
  parseTcpListen,
  portsOf,
  readEnviron,
  readExe,
  readNetNs,
  readProcess,
  scanAll,
  socketInodes,
  socketPorts,
} from './procfs.ts';
export type { ProcStat, ScanOptions } from './procfs.ts';
export { identityFromEnv, parseResourceAttributes, serviceIdentity } from './service.ts';
export type { ProcessInfo } from './types.ts';
