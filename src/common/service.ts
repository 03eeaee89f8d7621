/** The identity signals are exported under (shared vocabulary: imports nothing). */

/** The identity a selected process exports under. */
export interface ServiceIdentity {
  readonly name: string;
  readonly namespace: string;
  /** `service.instance.id`: `<host>:<pid>`, or from the pod / container (discovery/service.ts) */
  readonly instanceId: string;
  readonly pid: number;
  readonly exePath: string;
  readonly language: string;
  /** resource attributes from container / Kubernetes metadata (container.id, k8s.pod.name, ...) */
  readonly attributes?: Readonly<Record<string, string>>;
}
