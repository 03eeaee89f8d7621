/**
 * Container and Kubernetes metadata as application-metric attributes, as OBI reports them on
 * every application metric (obi-compat §2.3, "All app metrics"): with Kubernetes metadata the
 * `k8s.*` attributes (all shown by default); with Docker metadata and no Kubernetes,
 * `container.name` (shown) and `container.id` (hidden: `attributes.select` include). Without a
 * metadata source none of them exists, so `attributes.select` cannot add them either.
 *
 * The values are the service's resource attributes (discovery/metadata.ts puts them on
 * `ServiceIdentity.attributes`); a process outside any pod or container reports `''`.
 */
/** one metric attribute and whether it is shown by default (structurally metrics.ts MetricAttributeDef) */
export interface MetadataAttributeDef {
  readonly name: string;
  readonly byDefault: boolean;
}

/** The `k8s.*` attributes OBI puts on application metrics, in its order. */
export const K8S_METRIC_ATTRIBUTES: readonly string[] = [
  'k8s.namespace.name',
  'k8s.pod.name',
  'k8s.container.name',
  'k8s.deployment.name',
  'k8s.replicaset.name',
  'k8s.daemonset.name',
  'k8s.statefulset.name',
  'k8s.job.name',
  'k8s.cronjob.name',
  'k8s.node.name',
  'k8s.pod.uid',
  'k8s.pod.start_time',
  'k8s.cluster.name',
  'k8s.owner.name',
  'k8s.kind',
];

/** Which metadata sources are on (pipeline/metadata.ts decides). */
export interface MetadataSourcesOn {
  readonly kubernetes: boolean;
  readonly docker: boolean;
}

/** The metadata attributes every application metric can report, with their defaults. */
export function metadataMetricAttributes(on: MetadataSourcesOn): MetadataAttributeDef[] {
  if (on.kubernetes) return K8S_METRIC_ATTRIBUTES.map((name) => ({ name, byDefault: true }));
  if (on.docker) {
    return [
      { name: 'container.name', byDefault: true },
      { name: 'container.id', byDefault: false },
    ];
  }
  return [];
}

/** whether a metric attribute is read from the service's metadata rather than from the span */
export function isMetadataAttribute(name: string): boolean {
  return name.startsWith('k8s.') || name.startsWith('container.');
}
