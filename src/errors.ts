/**
 * One table of error codes (house rule 8). Codes are stable and never reused;
 * docs/reference/errors.md lists every one, and a test checks that it does.
 */
export const ErrorCodes = {
  OBI_ERR_CONFIG_INVALID: 'the configuration (file or environment) is invalid',
  OBI_ERR_CONFIG_FILE: 'the configuration file cannot be read or parsed',
  OBI_ERR_CONFIG_UNSUPPORTED: 'the configuration asks for an OBI feature obi-ts does not support',
  OBI_ERR_NOT_ROOT: 'the agent lacks the privileges it needs (root or CAP_BPF/CAP_PERFMON/...)',
  OBI_ERR_NO_BTF: 'the kernel exposes no BTF (/sys/kernel/btf/vmlinux)',
  OBI_ERR_KERNEL_FEATURE: 'a kernel feature the agent needs is missing',
  OBI_ERR_NATIVE_LOAD: 'the native addon cannot be loaded',
  OBI_ERR_BPF_LOAD: 'a BPF object failed to open, load or attach',
  OBI_ERR_BPF_MAP: 'a BPF map operation failed',
  OBI_ERR_MOUNT: 'tracefs or bpffs is missing and cannot be mounted',
  OBI_ERR_PORT_IN_USE: 'a listening port the agent needs is taken',
  OBI_ERR_USAGE: 'the command line is invalid',
  OBI_ERR_PROPAGATION_SELFTEST: 'header injection failed its start-up self-test: the TCP option carries the context instead (a warning: the agent starts)',
  OBI_ERR_PROPAGATION_UNAVAILABLE: 'a context propagation mode the configuration asks for does not run (a warning: the agent starts)',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

const kAgentError = Symbol.for('obi-ts.AgentError');

export class AgentError extends Error {
  readonly code: ErrorCode;
  /** process exit code the CLI uses when this error stops start-up */
  readonly exitCode: number;
  readonly [kAgentError] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.exitCode = options?.exitCode ?? 1;
  }

  static is(value: unknown): value is AgentError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kAgentError] === true;
  }
}

/** A kernel feature is absent; privileged tests skip on this, naming the feature. */
export class NotSupportedError extends AgentError {
  readonly feature: string;
  readonly minKernel?: string;
  constructor(feature: string, minKernel?: string, cause?: unknown, code: ErrorCode = 'OBI_ERR_KERNEL_FEATURE') {
    super(code, `kernel feature not supported: ${feature}${minKernel ? ` (needs Linux >= ${minKernel})` : ''}`, { cause, exitCode: 3 });
    this.name = 'NotSupportedError';
    this.feature = feature;
    this.minKernel = minKernel;
  }
}
