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
  /** container / Kubernetes metadata globs (k8s_namespace, container_name, ...); need that metadata to match */
  readonly metadata?: MetadataCriteria;
}

/** OBI's metadata selector keys: globs on names, and label/annotation name → glob on the value. */
export interface MetadataCriteria {
  readonly k8s_namespace?: string;
  readonly k8s_pod_name?: string;
  readonly k8s_deployment_name?: string;
  readonly k8s_replicaset_name?: string;
  readonly k8s_daemonset_name?: string;
  readonly k8s_statefulset_name?: string;
  readonly k8s_job_name?: string;
  readonly k8s_cronjob_name?: string;
  readonly k8s_owner_name?: string;
  readonly k8s_container_name?: string;
  readonly container_name?: string;
  readonly k8s_pod_labels?: Readonly<Record<string, string>>;
  readonly k8s_pod_annotations?: Readonly<Record<string, string>>;
}
