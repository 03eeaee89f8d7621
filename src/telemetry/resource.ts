/**
 * Resource attributes of an instrumented service (obi-compat §2.7): every service exports
 * under its own resource, as OBI does (one resource per service instance).
 *
 * OBI's attributes, in its order: `service.name`, `telemetry.sdk.language` (the detected
 * language of the process), `telemetry.sdk.name`, `telemetry.sdk.version`,
 * `telemetry.distro.name`, `telemetry.distro.version`, `host.name`, `host.id`, `os.type`,
 * `service.namespace` (only when set), `service.instance.id`; then the container / Kubernetes
 * metadata of the process (`container.id`, `k8s.pod.name`, ... from discovery); then the target process's own
 * `OTEL_RESOURCE_ATTRIBUTES` entries. Those may add attributes or replace host/os ones, never
 * the service identity or the `telemetry.*` ones (the identity was already resolved from them).
 *
 * Pure: the caller reads the host id and the target's environment.
 */
import {
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_NAMESPACE,
  ATTR_TELEMETRY_SDK_LANGUAGE,
  ATTR_TELEMETRY_SDK_NAME,
  ATTR_TELEMETRY_SDK_VERSION,
} from '@opentelemetry/semantic-conventions';
// not yet stable in semantic conventions: the incubating entry point
import { ATTR_HOST_ID, ATTR_HOST_NAME, ATTR_OS_TYPE, ATTR_TELEMETRY_DISTRO_NAME, ATTR_TELEMETRY_DISTRO_VERSION } from '@opentelemetry/semantic-conventions/incubating';
import type { ServiceIdentity } from '../common/service.ts';

/** OTLP instrumentation scope of every span and metric, as OBI names it. */
export const OBI_SCOPE_NAME = 'go.opentelemetry.io/obi';
/** `telemetry.sdk.name`, as current OBI reports it. */
export const SDK_NAME = 'opentelemetry';
/** `telemetry.distro.name`. */
export const DISTRO_NAME = 'obi-ts';

export interface HostInfo {
  /** `host.name` */
  readonly hostName: string;
  /** `host.id` (machine id); omitted when empty */
  readonly hostId: string;
}

export interface ResourceOptions {
  /** `telemetry.sdk.version` and `telemetry.distro.version` */
  readonly version: string;
  /** the target process's `OTEL_RESOURCE_ATTRIBUTES`, parsed */
  readonly processAttributes?: ReadonlyMap<string, string>;
}

/** Keys the target's OTEL_RESOURCE_ATTRIBUTES may not replace. */
const PROTECTED = new Set<string>([
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_NAMESPACE,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_TELEMETRY_SDK_LANGUAGE,
  ATTR_TELEMETRY_SDK_NAME,
  ATTR_TELEMETRY_SDK_VERSION,
  ATTR_TELEMETRY_DISTRO_NAME,
  ATTR_TELEMETRY_DISTRO_VERSION,
]);

/** The resource attributes of one service, as a new plain object (insertion order = OBI's order). */
export function serviceResourceAttributes(service: ServiceIdentity, host: HostInfo, options: ResourceOptions): Record<string, string> {
  const attrs: Record<string, string> = {
    [ATTR_SERVICE_NAME]: service.name,
    [ATTR_TELEMETRY_SDK_LANGUAGE]: service.language,
    [ATTR_TELEMETRY_SDK_NAME]: SDK_NAME,
    [ATTR_TELEMETRY_SDK_VERSION]: options.version,
    [ATTR_TELEMETRY_DISTRO_NAME]: DISTRO_NAME,
    [ATTR_TELEMETRY_DISTRO_VERSION]: options.version,
    [ATTR_HOST_NAME]: host.hostName,
  };
  if (host.hostId !== '') attrs[ATTR_HOST_ID] = host.hostId;
  attrs[ATTR_OS_TYPE] = 'linux';
  if (service.namespace !== '') attrs[ATTR_SERVICE_NAMESPACE] = service.namespace;
  attrs[ATTR_SERVICE_INSTANCE_ID] = service.instanceId;
  if (service.attributes !== undefined) {
    for (const k in service.attributes) if (!PROTECTED.has(k)) attrs[k] = service.attributes[k];
  }
  if (options.processAttributes !== undefined) {
    for (const [k, v] of options.processAttributes) {
      if (PROTECTED.has(k) || v === '' || v.startsWith('$')) continue;
      attrs[k] = v;
    }
  }
  return attrs;
}
