/** Discovery selectors, as configuration builds them and discovery applies them (shared vocabulary: imports nothing). */

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
