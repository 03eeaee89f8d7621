/**
 * Starts the metadata sources discovery decorates processes with (discovery/metadata.ts):
 * always the cgroup path (container.id, pod UID); the Docker Engine API when its socket is there
 * (DOCKER_HOST `unix://` path, else /var/run/docker.sock); Kubernetes informers when
 * `attributes.kubernetes.enable` is `true`, or `autodetect` inside a pod or with a kubeconfig.
 * Started before the first /proc scan, so the processes found at start-up get their metadata.
 */
import type { EffectiveConfig } from '../config/index.ts';
import { durationMs } from '../config/index.ts';
import { DEFAULT_DOCKER_SOCKET, DockerMetadata } from '../discovery/docker.ts';
import { KubeInformers, kubernetesDetected, localNodeName } from '../discovery/kubernetes/informers.ts';
import { MetadataResolver, type ResourceLabelRules } from '../discovery/metadata.ts';
import { compileServiceNameTemplate } from '../common/template.ts';
import type { ProcessInfo } from '../discovery/types.ts';
import type { Logger } from './log.ts';

export interface MetadataSources {
  decorate(info: ProcessInfo): ProcessInfo;
  forget(pid: number): void;
  readonly docker: boolean;
  readonly kubernetes: boolean;
  close(): Promise<void>;
}

export function dockerSocketPath(env: NodeJS.ProcessEnv): string {
  const h = env.DOCKER_HOST;
  return h !== undefined && h.startsWith('unix://') ? h.slice('unix://'.length) : DEFAULT_DOCKER_SOCKET;
}

/** Which metadata sources start (before they do: metric label sets depend on it). */
export function metadataSourcesOn(cfg: EffectiveConfig, env: NodeJS.ProcessEnv = process.env): { kubernetes: boolean; docker: boolean } {
  const k = cfg.attributes.kubernetes;
  return {
    kubernetes: k.enable === 'true' || (k.enable === 'autodetect' && kubernetesDetected(env, k.kubeconfig_path)),
    docker: DockerMetadata.available(dockerSocketPath(env)),
  };
}

/** `onChange(containerId)`: a container's metadata arrived or changed after start (Docker events, pod watch) */
export async function startMetadata(
  cfg: EffectiveConfig,
  log: Logger,
  onChange?: (containerId: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MetadataSources> {
  const k = cfg.attributes.kubernetes;
  const changed = onChange;
  let resolver: MetadataResolver | undefined;
  const notify = (id: string): void => {
    resolver?.forgetContainer(id);
    changed?.(id);
  };
  let docker: DockerMetadata | undefined;
  const socketPath = dockerSocketPath(env);
  if (DockerMetadata.available(socketPath)) {
    const d = new DockerMetadata({ socketPath, log, onLearned: (c) => notify(c.id) });
    if (await d.start()) docker = d;
  }
  let kube: KubeInformers | undefined;
  const kubeOn = metadataSourcesOn(cfg, env).kubernetes;
  if (kubeOn) {
    kube = new KubeInformers({
      kubeconfigPath: k.kubeconfig_path || undefined,
      nodeName: localNodeName(env),
      clusterName: k.cluster_name,
      restrictLocalNode: k.meta_restrict_local_node === true,
      disabled: k.disable_informers ?? [],
      syncTimeoutMs: durationMs(k.informers_sync_timeout),
      reconnectMs: Math.max(100, durationMs(k.reconnect_initial_interval)),
      log,
    });
    kube.store.onPodChange = (ids) => {
      for (const id of ids) notify(id);
    };
    try {
      await kube.start();
    } catch (err) {
      log.warn('Kubernetes metadata unavailable', { error: (err as Error).message });
      await kube.stop();
      kube = undefined;
    }
  }
  resolver = new MetadataResolver({
    docker,
    kube: kube?.store,
    resourceLabels: k.resource_labels as ResourceLabelRules,
    // validated when the configuration loaded (config/unsupported.ts)
    serviceNameTemplate: k.service_name_template ? compileServiceNameTemplate(k.service_name_template) : undefined,
  });
  return {
    decorate: (info) => resolver.decorate(info),
    forget: (pid) => resolver.forget(pid),
    docker: docker !== undefined,
    kubernetes: kube !== undefined,
    close: async () => {
      docker?.close();
      await kube?.stop();
    },
  };
}
