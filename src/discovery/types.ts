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

