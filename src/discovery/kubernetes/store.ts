/**
 * What the Kubernetes informers know, indexed for the per-process lookups of discovery: pods of
 * this node by UID (the cgroup path gives the UID), ReplicaSets and Jobs by namespace/name (to
 * climb to their Deployment or CronJob). Fed by the informers' add/update/delete callbacks with
 * the API's own objects; lookups are synchronous map reads.
 *
 * Owners, as OBI reports them: the pod's controller reference; a ReplicaSet → its Deployment
 * (when the ReplicaSet is unknown, the name less its `pod-template-hash` suffix, as OBI does), a
 * Job → its CronJob; StatefulSet and DaemonSet directly. `k8s.owner.name` / `k8s.kind` are the
 * top owner, or the pod itself when it has none.
 */
import type { KubeMetadata } from '../types.ts';

/** The fields read from API objects (a subset of V1Pod / V1ReplicaSet / V1Job). */
export interface OwnerReference {
  kind?: string;
  name?: string;
  controller?: boolean;
}
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}
export interface ContainerStatus {
  name: string;
  containerID?: string;
}
export interface PodLike {
  metadata?: ObjectMeta;
  spec?: { nodeName?: string };
  status?: {
    startTime?: Date | string;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    ephemeralContainerStatuses?: ContainerStatus[];
  };
}
export interface OwnedLike {
  metadata?: ObjectMeta;
}

function controllerOf(meta: ObjectMeta | undefined): OwnerReference | undefined {
  const refs = meta?.ownerReferences ?? [];
  return refs.find((r) => r.controller === true) ?? refs[0];
}

const key = (ns: string | undefined, name: string | undefined): string => `${ns ?? ''}/${name ?? ''}`;

function iso(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.000Z$/, 'Z');
}

export class KubeStore {
  private readonly _pods = new Map<string, PodLike>();
  private readonly _replicaSets = new Map<string, OwnedLike>();
  private readonly _jobs = new Map<string, OwnedLike>();
  private readonly _clusterName: string | undefined;
  /** called with the container ids of a pod that was added or changed */
  onPodChange?: (containerIds: readonly string[]) => void;

  constructor(clusterName?: string) {
    this._clusterName = clusterName !== '' ? clusterName : undefined;
  }

  get podCount(): number {
    return this._pods.size;
  }

  setPod(p: PodLike): void {
    const uid = p.metadata?.uid;
    if (!uid) return;
    this._pods.set(uid, p);
    if (this.onPodChange !== undefined) {
      const st = p.status;
      const ids = [...(st?.containerStatuses ?? []), ...(st?.initContainerStatuses ?? []), ...(st?.ephemeralContainerStatuses ?? [])]
        .map((c) => c.containerID?.slice(c.containerID.indexOf('://') + 3) ?? '')
        .filter((id) => id !== '');
      if (ids.length > 0) this.onPodChange(ids);
    }
  }
  deletePod(p: PodLike): void {
    const uid = p.metadata?.uid;
    if (uid) this._pods.delete(uid);
  }
  setReplicaSet(o: OwnedLike): void {
    this._replicaSets.set(key(o.metadata?.namespace, o.metadata?.name), o);
  }
  deleteReplicaSet(o: OwnedLike): void {
    this._replicaSets.delete(key(o.metadata?.namespace, o.metadata?.name));
  }
  setJob(o: OwnedLike): void {
    this._jobs.set(key(o.metadata?.namespace, o.metadata?.name), o);
  }
  deleteJob(o: OwnedLike): void {
    this._jobs.delete(key(o.metadata?.namespace, o.metadata?.name));
  }

  /** Metadata of the container `containerId` (64 hex) of pod `podUid`, if the pod is known. */
  lookup(podUid: string, containerId: string): KubeMetadata | undefined {
    const pod = this._pods.get(podUid);
    if (pod === undefined) return undefined;
    const m = pod.metadata ?? {};
    const ns = m.namespace ?? '';
    const owners: { -readonly [K in keyof KubeMetadata['owners']]: string } = {};
    let ownerKind = 'Pod';
    let ownerName = m.name ?? '';
    const ref = controllerOf(m);
    if (ref?.kind && ref.name) {
      ownerKind = ref.kind;
      ownerName = ref.name;
      if (ref.kind === 'ReplicaSet') {
        owners.ReplicaSet = ref.name;
        const rs = this._replicaSets.get(key(ns, ref.name));
        const up = rs !== undefined ? controllerOf(rs.metadata) : undefined;
        let deployment = up?.kind === 'Deployment' ? up.name : undefined;
        const hash = m.labels?.['pod-template-hash'];
        if (rs === undefined && hash && ref.name.endsWith(`-${hash}`)) deployment = ref.name.slice(0, -hash.length - 1);
        if (deployment) {
          owners.Deployment = deployment;
          ownerKind = 'Deployment';
          ownerName = deployment;
        }
      } else if (ref.kind === 'Job') {
        owners.Job = ref.name;
        const up = controllerOf(this._jobs.get(key(ns, ref.name))?.metadata);
        if (up?.kind === 'CronJob' && up.name) {
          owners.CronJob = up.name;
          ownerKind = 'CronJob';
          ownerName = up.name;
        }
      } else if (ref.kind === 'StatefulSet' || ref.kind === 'DaemonSet' || ref.kind === 'Deployment' || ref.kind === 'CronJob') {
        owners[ref.kind] = ref.name;
      }
    }
    const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
    const container = statuses.find((s) => s.containerID !== undefined && s.containerID.slice(s.containerID.indexOf('://') + 3) === containerId);
    const out: { -readonly [K in keyof KubeMetadata]: KubeMetadata[K] } = {
      namespace: ns,
      podName: m.name ?? '',
      podUid,
      nodeName: pod.spec?.nodeName ?? '',
      ownerKind,
      ownerName,
      owners,
      labels: m.labels ?? {},
      annotations: m.annotations ?? {},
    };
    const start = iso(pod.status?.startTime);
    if (start !== undefined) out.podStartTime = start;
    if (container !== undefined) out.containerName = container.name;
    if (this._clusterName !== undefined) out.clusterName = this._clusterName;
    return out;
  }
}
