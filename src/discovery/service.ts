/**
 * Service identity of a selected process (obi-compat §2.7):
 *
 * - name: selector `name` → the process's own `OTEL_SERVICE_NAME` → `service.name` in its
 *   `OTEL_RESOURCE_ATTRIBUTES` → container / Kubernetes metadata (`ProcessInfo.metadata`, rules in
 *   metadata.ts: pod annotation, resource labels, top owner; Compose service or container name)
 *   → executable base name (e.g. `python3.12`, `java`)
 * - namespace: selector `namespace` → `service.namespace` in `OTEL_RESOURCE_ATTRIBUTES` →
 *   metadata (annotation, `app.kubernetes.io/part-of`, pod namespace) → ''
 * - attributes: the metadata's resource attributes (container.id, k8s.*), when there are any
 * - instance id (`service.instance.id`, the Prometheus `instance` label), as OBI sets it: in
 *   Kubernetes `<namespace>.<pod>.<container>`; in a Docker container (no Kubernetes) the
 *   container name; otherwise `<host>:<pid>`
 *
 * Values beginning with `$` (an unexpanded `${VAR}` left in the target's environment) are
 * ignored, for OTEL_SERVICE_NAME as for resource attributes; empty values are ignored too.
 * Reading another user's /proc/PID/environ needs root (or CAP_SYS_PTRACE); without it the
 * environment steps are skipped.
 */
import { readEnviron } from './procfs.ts';
import type { ProcessInfo } from './types.ts';
import type { Selector } from '../common/selector.ts';
import type { ServiceIdentity } from '../common/service.ts';

function decodePercent(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Parses an `OTEL_RESOURCE_ATTRIBUTES` value: comma-separated `key=value` pairs, whitespace
 * around keys and values trimmed, values percent-decoded; entries without `=` or with an empty
 * key are skipped; a later duplicate key wins.
 */
export function parseResourceAttributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    if (key === '') continue;
    out.set(key, decodePercent(part.slice(eq + 1).trim()));
  }
  return out;
}

const usable = (v: string | undefined): v is string => v !== undefined && v !== '' && !v.startsWith('$');
const given = (v: string | undefined): v is string => v !== undefined && v !== '';

function exeBaseName(proc: ProcessInfo): string {
  const path = proc.exePath !== '' ? proc.exePath : (proc.cmdline[0] ?? '');
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base !== '' ? base : 'unknown';
}

/** `service.instance.id` of a process: from its pod or container, else `<host>:<pid>`. */
export function instanceIdOf(proc: ProcessInfo, hostName: string): string {
  const meta = proc.metadata;
  const k8s = meta?.k8s;
  if (k8s !== undefined && k8s.namespace !== '' && k8s.podName !== '') {
    return k8s.containerName !== undefined && k8s.containerName !== '' ? `${k8s.namespace}.${k8s.podName}.${k8s.containerName}` : `${k8s.namespace}.${k8s.podName}`;
  }
  if (meta?.containerName !== undefined && meta.containerName !== '') return meta.containerName;
  return `${hostName}:${proc.pid}`;
}

/** Pure resolution from an already-read environment (undefined = not readable). */
export function identityFromEnv(
  proc: ProcessInfo,
  selector: Selector | undefined,
  hostName: string,
  env: ReadonlyMap<string, string> | undefined,
): ServiceIdentity {
  const meta = proc.metadata;
  const envName = env?.get('OTEL_SERVICE_NAME');
  const rawAttrs = env?.get('OTEL_RESOURCE_ATTRIBUTES');
  const attrs = rawAttrs ? parseResourceAttributes(rawAttrs) : undefined;
  const attrName = attrs?.get('service.name');
  const attrNs = attrs?.get('service.namespace');

  let name: string;
  if (given(selector?.name)) name = selector.name;
  else if (usable(envName)) name = envName;
  else if (usable(attrName)) name = attrName;
  else if (given(meta?.serviceName)) name = meta.serviceName;
  else name = exeBaseName(proc);

  let namespace = '';
  if (given(selector?.namespace)) namespace = selector.namespace;
  else if (usable(attrNs)) namespace = attrNs;
  else if (given(meta?.serviceNamespace)) namespace = meta.serviceNamespace;

  const identity: ServiceIdentity = {
    name,
    namespace,
    instanceId: instanceIdOf(proc, hostName),
    pid: proc.pid,
    exePath: proc.exePath,
    language: proc.language,
  };
  return meta !== undefined && Object.keys(meta.attributes).length > 0 ? { ...identity, attributes: meta.attributes } : identity;
}

/** Resolves the identity, reading the target's environment from `procRoot`/PID/environ. */
export function serviceIdentity(proc: ProcessInfo, selector: Selector | undefined, hostName: string, procRoot = '/proc'): ServiceIdentity {
  const needEnv = !given(selector?.name) || !given(selector?.namespace);
  return identityFromEnv(proc, selector, hostName, needEnv ? readEnviron(proc.pid, procRoot) : undefined);
}
