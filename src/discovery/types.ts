/** Inclusive TCP port range; a single port has start === end. */
export interface PortRange {
  readonly start: number;
  readonly end: number;
}

/**
 * One discovery selector (an entry of `discovery.instrument`, or one built from the
 * shortcut keys `open_port`, `OTEL_EBPF_AUTO_TARGET_EXE`, `OTEL_EBPF_TARGET_PID`).
 * Fields are ANDed inside a selector; selectors are ORed.
 */
export interface Selector {
  /** overrides service.name for what it selects */
  readonly name?: string;
  /** overrides service.namespace for what it selects */
  readonly namespace?: string;
  readonly openPorts?: readonly PortRange[];
  /** glob on the full executable path */
  readonly exePath?: string;
  /** glob on the command line (argv joined by spaces) */
  readonly cmdArgs?: string;
  /** glob on the detected language */
  readonly languages?: string;
  readonly targetPids?: readonly number[];
  /** deprecated regular-expression form of exePath */
  readonly exePathRegexp?: string;
  readonly containersOnly?: boolean;
  /** `[metrics, traces]` subset; undefined = both */
  readonly exports?: readonly ('metrics' | 'traces')[];
}

/** What discovery knows of one process. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** resolved /proc/PID/exe, '' if unreadable (kernel thread, gone) */
  readonly exePath: string;
  readonly cmdline: readonly string[];
  /** local ports of TCP sockets in LISTEN state owned by the process */
  readonly listenPorts: readonly number[];
  /** process start time, ms since epoch */
  readonly startTimeMs: number;
  /** go, java, nodejs, python, ruby, dotnet, php, rust, cpp, generic */
  readonly language: string;
  /**
   * inode of the process's network namespace (/proc/PID/ns/net); undefined if unreadable.
   * Used by `containers_only` (a process outside the agent's netns is containerised).
   */
  readonly netNs?: number;
}

/** The identity a selected process exports under. */
export interface ServiceIdentity {
  readonly name: string;
  readonly namespace: string;
  /** `<host>:<pid>` */
  readonly instanceId: string;
  readonly pid: number;
  readonly exePath: string;
  readonly language: string;
}
