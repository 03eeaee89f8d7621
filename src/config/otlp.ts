/**
 * OTLP endpoint resolution, as OBI does it (obi-compat §1.6):
 * - the per-signal endpoint (`endpoint`, env OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT) is used as is;
 * - otherwise the common endpoint (env OTEL_EXPORTER_OTLP_ENDPOINT) gets `/v1/traces` or
 *   `/v1/metrics` appended when the protocol is HTTP;
 * - the protocol is the configured one, else guessed from the port: a port ending in 4317 → grpc,
 *   ending in 4318 → http/protobuf, anything else → http/protobuf (OTel default);
 * - headers: common headers, then per-signal headers overriding them key by key.
 */
import { AgentError } from '../errors.ts';
import type { ObiConfig } from './generated/types.ts';

export type OtlpSignal = 'traces' | 'metrics';
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export interface ResolvedOtlp {
  /** full URL: for HTTP the exact request URL, for gRPC scheme://host:port */
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Parses `k=v,k2=v2` (W3C-baggage-like, keys and values URL-decoded, blanks trimmed).
 * @throws AgentError OBI_ERR_CONFIG_INVALID for an entry without `=`, an empty key, or bad %-encoding
 */
export function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      throw new AgentError('OBI_ERR_CONFIG_INVALID', `header entry ${JSON.stringify(entry)} is not key=value`);
    }
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(entry.slice(0, eq)).trim();
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new AgentError('OBI_ERR_CONFIG_INVALID', `header entry ${JSON.stringify(entry)} has invalid %-encoding`);
    }
    if (key === '') throw new AgentError('OBI_ERR_CONFIG_INVALID', `header entry ${JSON.stringify(entry)} has an empty key`);
    out[key] = value;
  }
  return out;
}

/** Protocol guessed from the endpoint port, as OBI does (suffix match, so 14317 counts as gRPC). */
export function guessProtocol(endpoint: string): OtlpProtocol {
  let port = '';
  try {
    port = new URL(endpoint).port;
  } catch {
    return 'http/protobuf';
  }
  if (port.endsWith('4317')) return 'grpc';
  return 'http/protobuf';
}

/** True for an absolute URL with a scheme and a host (`http://collector:4318`). */
export function isEndpointUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const u = new URL(text);
  return u.protocol !== '' && u.host !== '';
}

interface OtlpSection {
  readonly endpoint?: string;
  readonly common_endpoint?: string;
  readonly protocol?: OtlpProtocol;
  readonly headers?: string;
  readonly common_headers?: string;
}

/**
 * Where and how to export `signal`, or undefined when no endpoint is configured (the exporter
 * is then disabled). Call on a validated config (loadConfig checked URLs and header syntax).
 */
export function resolveOtlp(config: Pick<ObiConfig, 'otel_traces_export' | 'otel_metrics_export'>, signal: OtlpSignal): ResolvedOtlp | undefined {
  const section: OtlpSection = signal === 'traces' ? config.otel_traces_export : config.otel_metrics_export;
  const specific = nonEmpty(section.endpoint);
  const common = nonEmpty(section.common_endpoint);
  const chosen = specific ?? common;
  if (chosen === undefined) return undefined;
  const protocol = section.protocol ?? guessProtocol(chosen);
  let endpoint = chosen;
  if (specific === undefined && protocol !== 'grpc') {
    const u = new URL(chosen);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/${signal}`;
    endpoint = u.href;
  }
  const headers = { ...parseHeaders(section.common_headers ?? ''), ...parseHeaders(section.headers ?? '') };
  return Object.freeze({ endpoint, protocol, headers: Object.freeze(headers) });
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}
