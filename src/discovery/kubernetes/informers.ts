/**
 * Kubernetes metadata through the official client (@kubernetes/client-node): its list+watch
 * informers (`ListWatch`: list, then watch from the list's resourceVersion, relist on 410 Gone)
 * for pods (every pod of the cluster, as OBI; with `meta_restrict_local_node` the pods of this
 * node only: field selector `spec.nodeName=<node>`), and for ReplicaSets and Jobs (their owners:
 * Deployment, CronJob; `disable_informers: [replicaset, job]` skips them, the Deployment then
 * comes from the ReplicaSet name less its `pod-template-hash`, and a Job's CronJob is unknown),
 * feeding a {@link KubeStore}. RBAC needed: get, list,
 * watch on pods, apps/replicasets and batch/jobs (deploy/kubernetes/rbac.yaml).
 *
 * Configuration (OBI's `attributes.kubernetes`): `kubeconfig_path` (KUBECONFIG) or the in-cluster
 * service account; `informers_sync_timeout` bounds the wait for the first lists at start-up;
 * after an error (API server gone, watch refused) an informer starts again after
 * `reconnect_initial_interval`. The library is loaded only when Kubernetes metadata is on.
 */
import { hostname } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeStore, type OwnedLike, type PodLike } from './store.ts';

export interface KubeInformerOptions {
  /** kubeconfig file; undefined = in-cluster service account */
  readonly kubeconfigPath?: string;
  /** the node whose pods are watched */
  readonly nodeName: string;
  readonly clusterName?: string;
  /** `meta_restrict_local_node`: watch the pods of `nodeName` only (else every pod of the cluster, as OBI does) */
  readonly restrictLocalNode?: boolean;
  /** `disable_informers`: informer kinds not started (`replicaset`, `job`; `node` and `service` have no informer here) */
  readonly disabled?: readonly string[];
  readonly syncTimeoutMs: number;
  readonly reconnectMs: number;
  readonly log: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
}

/** OBI's autodetection: in a pod (the service-account env) or with a kubeconfig given. */
export function kubernetesDetected(env: NodeJS.ProcessEnv, kubeconfigPath: string | undefined): boolean {
  return (env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_HOST !== '') || (kubeconfigPath !== undefined && kubeconfigPath !== '');
}

/** The local node: NODE_NAME (downward API, as deploy/kubernetes sets it), else the host name (hostNetwork pods). */
export function localNodeName(env: NodeJS.ProcessEnv): string {
  return env.NODE_NAME || env.KUBE_NODE_NAME || hostname();
}

interface Stoppable {
  stop(): Promise<void>;
}

export class KubeInformers {
  readonly store: KubeStore;
  private readonly _opts: KubeInformerOptions;
  private readonly _informers: Stoppable[] = [];
  private readonly _timers = new Set<NodeJS.Timeout>();
  private _stopped = false;

  constructor(opts: KubeInformerOptions) {
    this._opts = opts;
    this.store = new KubeStore(opts.clusterName);
  }

  /** Starts the informers; resolves when all have listed once, or at the sync timeout (false). */
  async start(): Promise<boolean> {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    if (this._opts.kubeconfigPath) kc.loadFromFile(this._opts.kubeconfigPath);
    else kc.loadFromCluster();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    const watch = new k8s.Watch(kc);
    const node = this._opts.nodeName;
    const fieldSelector = this._opts.restrictLocalNode === true ? `spec.nodeName=${node}` : undefined;
    const off = new Set(this._opts.disabled ?? []);
    const s = this.store;

    /** one informer; resolves once its first list succeeded (after retries, if it must) */
    const make = <T extends PodLike | OwnedLike>(
      what: string,
      path: string,
      list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
      set: (o: T) => void,
      del: (o: T) => void,
      field?: string,
    ): Promise<void> => {
      // the API objects (V1Pod, V1ReplicaSet, V1Job) as the store reads them
      const inf = new k8s.ListWatch<KubernetesObject>(path, watch, list as never, false, undefined, field);
      inf.on('add', (o) => set(o as T));
      inf.on('update', (o) => set(o as T));
      inf.on('delete', (o) => del(o as T));
      this._informers.push(inf);
      let failed = false;
      let synced: () => void;
      const done = new Promise<void>((r) => (synced = r));
      const attempt = async (): Promise<void> => {
        failed = false;
        try {
          await inf.start();
        } catch {
          failed = true;
        }
        if (!failed) synced();
      };
      inf.on('error', (err?: unknown) => {
        failed = true;
        if (this._stopped) return;
        this._opts.log.warn('Kubernetes informer error; restarting', { informer: what, error: (err as Error | undefined)?.message ?? String(err), retry_ms: this._opts.reconnectMs });
        const t = setTimeout(() => {
          this._timers.delete(t);
          if (!this._stopped) void attempt();
        }, this._opts.reconnectMs);
        t.unref();
        this._timers.add(t);
      });
      void attempt();
      return done;
    };

    const synced = Promise.all([
      make<PodLike>('pods', '/api/v1/pods', () => core.listPodForAllNamespaces(fieldSelector !== undefined ? { fieldSelector } : {}) as never, (p) => s.setPod(p), (p) => s.deletePod(p), fieldSelector),
      off.has('replicaset') ? undefined : make<OwnedLike>('replicasets', '/apis/apps/v1/replicasets', () => apps.listReplicaSetForAllNamespaces() as never, (o) => s.setReplicaSet(o), (o) => s.deleteReplicaSet(o)),
      off.has('job') ? undefined : make<OwnedLike>('jobs', '/apis/batch/v1/jobs', () => batch.listJobForAllNamespaces() as never, (o) => s.setJob(o), (o) => s.deleteJob(o)),
    ]).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), this._opts.syncTimeoutMs);
      timer.unref();
    });
    const ok = await Promise.race([synced.catch(() => false), timeout]);
    clearTimeout(timer);
    if (ok) this._opts.log.info('Kubernetes metadata synced', { node, pods: s.podCount });
    else this._opts.log.warn('Kubernetes informers not synced in time; metadata fills in as they sync', { node, timeout_ms: this._opts.syncTimeoutMs });
    return ok;
  }

  async stop(): Promise<void> {
    this._stopped = true;
    for (const t of this._timers) clearTimeout(t);
    this._timers.clear();
    await Promise.all(this._informers.map((i) => i.stop().catch(() => {})));
  }
}
