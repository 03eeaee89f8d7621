/**
 * Container and Kubernetes metadata of a process, resolved once per process (cached by pid and
 * start time) when discovery selects or matches it; the span path never calls it.
 *
 * Sources: the cgroup path (container id, pod UID: container.ts), the Docker Engine API
 * (container name and image: docker.ts) and the Kubernetes API server (pod, owners, labels:
 * kubernetes/). From them come, as OBI names them:
 *
 * - resource attributes: `container.id`, `container.name`, `container.image.name`;
 *   `k8s.namespace.name`, `k8s.pod.name`, `k8s.pod.uid`, `k8s.container.name`, `k8s.node.name`,
 *   `k8s.pod.start_time`, `k8s.deployment.name`, `k8s.replicaset.name`, `k8s.statefulset.name`,
 *   `k8s.daemonset.name`, `k8s.job.name`, `k8s.cronjob.name`, `k8s.owner.name`, `k8s.kind`,
 *   `k8s.cluster.name`, and `service.version` from `resource_labels`;
 * - service.name (after the selector and the process's own OTEL_SERVICE_NAME /
 *   OTEL_RESOURCE_ATTRIBUTES, before the executable name): the pod annotation
 *   `resource.opentelemetry.io/service.name`, the `resource_labels` of service.name
 *   (`app.kubernetes.io/instance`, `app.kubernetes.io/name`) — or, in their place, a non-empty
 *   `service_name_template` result (common/template.ts) — then the top owner's name; outside
 *   Kubernetes the Compose service, else the container name;
 * - service.namespace: annotation `resource.opentelemetry.io/service.namespace`, the
 *   `resource_labels` of service.namespace (`app.kubernetes.io/part-of`), the pod's namespace.
 */
import type { DockerContainerInfo } from './docker.ts';
import { readContainer, type CgroupContainer } from './container.ts';
import type { TemplateInput } from '../common/template.ts';
import type { KubeMetadata, ProcessInfo, ProcessMetadata } from './types.ts';

/** A Kubernetes metadata source (kubernetes/store.ts): pod by UID, container by id. */
export interface KubeSource {
  lookup(podUid: string, containerId: string): KubeMetadata | undefined;
}

/** A Docker metadata source (docker.ts). */
export interface DockerSource {
  get(containerId: string): DockerContainerInfo | undefined;
}

export interface ResourceLabelRules {
  readonly [attribute: string]: readonly string[];
}

export const DEFAULT_RESOURCE_LABELS: ResourceLabelRules = Object.freeze({
  'service.name': ['app.kubernetes.io/instance', 'app.kubernetes.io/name'],
  'service.namespace': ['app.kubernetes.io/part-of'],
  'service.version': ['app.kubernetes.io/version'],
});

export interface MetadataOptions {
  readonly docker?: DockerSource;
  readonly kube?: KubeSource;
  readonly resourceLabels?: ResourceLabelRules;
  readonly procRoot?: string;
  /** `attributes.kubernetes.service_name_template`, compiled (common/template.ts) */
  readonly serviceNameTemplate?: (input: TemplateInput) => string;
  /** read a process's cgroup (tests) */
  readonly readCgroup?: (pid: number) => CgroupContainer | undefined;
}

const OWNER_ATTRS = [
  ['Deployment', 'k8s.deployment.name'],
  ['ReplicaSet', 'k8s.replicaset.name'],
  ['StatefulSet', 'k8s.statefulset.name'],
  ['DaemonSet', 'k8s.daemonset.name'],
  ['Job', 'k8s.job.name'],
  ['CronJob', 'k8s.cronjob.name'],
] as const;

function firstOf(keys: readonly string[] | undefined, ...maps: Readonly<Record<string, string>>[]): string | undefined {
  for (const k of keys ?? []) {
    for (const m of maps) {
      const v = m[k];
      if (v !== undefined && v !== '') return v;
    }
  }
  return undefined;
}

/** Pure: the metadata of a process from what the sources know. */
export function buildMetadata(
  cg: CgroupContainer | undefined,
  docker: DockerContainerInfo | undefined,
  k8s: KubeMetadata | undefined,
  rules: ResourceLabelRules = DEFAULT_RESOURCE_LABELS,
  template?: (input: TemplateInput) => string,
): ProcessMetadata | undefined {
  if (cg === undefined && k8s === undefined) return undefined;
  const attrs: Record<string, string> = {};
  if (cg !== undefined) attrs['container.id'] = cg.containerId;
  let serviceName: string | undefined;
  let serviceNamespace: string | undefined;
  if (k8s !== undefined) {
    attrs['k8s.namespace.name'] = k8s.namespace;
    attrs['k8s.pod.name'] = k8s.podName;
    attrs['k8s.pod.uid'] = k8s.podUid;
    if (k8s.containerName !== undefined) attrs['k8s.container.name'] = k8s.containerName;
    if (k8s.nodeName !== '') attrs['k8s.node.name'] = k8s.nodeName;
    if (k8s.podStartTime !== undefined) attrs['k8s.pod.start_time'] = k8s.podStartTime;
    for (const [kind, attr] of OWNER_ATTRS) {
      const n = k8s.owners[kind];
      if (n !== undefined) attrs[attr] = n;
    }
    attrs['k8s.owner.name'] = k8s.ownerName;
    attrs['k8s.kind'] = k8s.ownerKind;
    if (k8s.clusterName !== undefined && k8s.clusterName !== '') attrs['k8s.cluster.name'] = k8s.clusterName;
    const version = firstOf(rules['service.version'], k8s.annotations, k8s.labels);
    if (version !== undefined) attrs['service.version'] = version;
    serviceName =
      template !== undefined
        ? template({ name: k8s.podName, namespace: k8s.namespace, labels: k8s.labels, annotations: k8s.annotations, containerName: k8s.containerName ?? '' }) || k8s.ownerName
        : k8s.annotations['resource.opentelemetry.io/service.name'] || firstOf(rules['service.name'], k8s.labels) || k8s.ownerName;
    serviceNamespace = k8s.annotations['resource.opentelemetry.io/service.namespace'] || firstOf(rules['service.namespace'], k8s.labels) || k8s.namespace;
  }
  if (docker !== undefined) {
    if (docker.name !== '') attrs['container.name'] = docker.name;
    if (docker.image !== '') attrs['container.image.name'] = docker.image;
    if (k8s === undefined) serviceName = docker.composeService || docker.name || undefined;
  }
  const meta: { -readonly [K in keyof ProcessMetadata]: ProcessMetadata[K] } = { attributes: Object.freeze(attrs) };
  if (cg !== undefined) meta.containerId = cg.containerId;
  if (docker !== undefined) {
    if (docker.name !== '') meta.containerName = docker.name;
    if (docker.image !== '') meta.containerImage = docker.image;
    if (docker.composeService !== undefined) meta.composeService = docker.composeService;
  }
  if (k8s !== undefined) meta.k8s = k8s;
  if (serviceName !== undefined && serviceName !== '') meta.serviceName = serviceName;
  if (serviceNamespace !== undefined && serviceNamespace !== '') meta.serviceNamespace = serviceNamespace;
  return Object.freeze(meta);
}

/** Per-process metadata with a cache keyed by pid and start time (a reused pid is a new process). */
export class MetadataResolver {
  private readonly _opts: MetadataOptions;
  private readonly _cache = new Map<number, { start: number; meta: ProcessMetadata | undefined }>();

  constructor(opts: MetadataOptions = {}) {
    this._opts = opts;
  }

  /** metadata of `info`'s process (cached); undefined outside containers and pods */
  resolve(info: ProcessInfo): ProcessMetadata | undefined {
    const hit = this._cache.get(info.pid);
    if (hit !== undefined && hit.start === info.startTimeMs) return hit.meta;
    const cg = this._opts.readCgroup ? this._opts.readCgroup(info.pid) : readContainer(info.pid, this._opts.procRoot);
    const docker = cg !== undefined ? this._opts.docker?.get(cg.containerId) : undefined;
    const k8s = cg?.podUid !== undefined ? this._opts.kube?.lookup(cg.podUid, cg.containerId) : undefined;
    const meta = buildMetadata(cg, docker, k8s, this._opts.resourceLabels, this._opts.serviceNameTemplate);
    // a miss of a source that may learn it later (Docker inspect, pod not yet in the informer) is not cached
    const complete = cg === undefined || ((this._opts.docker === undefined || docker !== undefined) && (this._opts.kube === undefined || cg.podUid === undefined || k8s !== undefined));
    if (complete) this._cache.set(info.pid, { start: info.startTimeMs, meta });
    return meta;
  }

  /** `info` with its metadata attached */
  decorate(info: ProcessInfo): ProcessInfo {
    if (info.metadata !== undefined) return info;
    const metadata = this.resolve(info);
    return metadata === undefined ? info : { ...info, metadata };
  }

  forget(pid: number): void {
    this._cache.delete(pid);
  }

  /** drops what is cached for processes of container `containerId` (its metadata changed) */
  forgetContainer(containerId: string): void {
    for (const [pid, c] of this._cache) if (c.meta?.containerId === containerId) this._cache.delete(pid);
  }
}
