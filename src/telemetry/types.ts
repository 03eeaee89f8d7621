/**
 * Types shared by the telemetry model (spans, metrics) and its producers.
 */
import type { ServiceIdentity } from '../discovery/types.ts';

/** The connection an exchange travelled on, as the instrumented process sees it. */
export interface ConnInfo {
  readonly pid: number;
  readonly tid: number;
  /** `server`: the instrumented process accepted the connection; `client`: it connected out */
  readonly role: 'server' | 'client';
  /** textual IP (IPv4 dotted, IPv6 compressed; IPv4-mapped shown as IPv4) */
  readonly localAddr: string;
  readonly localPort: number;
  readonly remoteAddr: string;
  readonly remotePort: number;
  /** payload was captured above TLS (SSL_read/SSL_write) */
  readonly tls: boolean;
}

/** Decorates a request path with its `http.route`; `''` means no route. */
export type RouteResolver = (path: string, service: ServiceIdentity) => string;
