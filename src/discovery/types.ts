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
  /** container / Kubernetes metadata, when a metadata source is on (discovery/metadata.ts) */
  readonly metadata?: ProcessMetadata;
}

/** Kubernetes metadata of the pod (and container) a process runs in. */
export interface KubeMetadata {
  readonly namespace: string;
  readonly podName: string;
  readonly podUid: string;
  readonly nodeName: string;
  /** RFC 3339 */
  readonly podStartTime?: string;
  readonly containerName?: string;
  /** the top owner: Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet, or Pod */
  readonly ownerKind: string;
  readonly ownerName: string;
  /** owner names by kind (ReplicaSet → Deployment, Job → CronJob keep both) */
  readonly owners: Readonly<Partial<Record<'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob', string>>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly clusterName?: string;
}

/** What is known of a process's container and pod; resolved once per process, never per span. */
export interface ProcessMetadata {
  /** 64-hex container id from the cgroup path */
  readonly containerId?: string;
  /** OCI/Docker container name (Docker Engine API), without the leading '/' */
  readonly containerName?: string;
  readonly containerImage?: string;
  /** Compose service (label com.docker.compose.service) */
  readonly composeService?: string;
  readonly k8s?: KubeMetadata;
  /** service.name by OBI's metadata rules (annotation, resource labels, owner, container name) */
  readonly serviceName?: string;
  /** service.namespace by OBI's metadata rules (annotation, part-of label, pod namespace) */
  readonly serviceNamespace?: string;
  /** resource attributes: container.*, k8s.*, service.version */
  readonly attributes: Readonly<Record<string, string>>;
}

