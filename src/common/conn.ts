/** The connection an operation travelled on (shared vocabulary: imports nothing). */

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
  /**
   * a unix stream socket (FastCGI from nginx to PHP-FPM): the path it is bound or connected to
   * ('' for an abstract or unnamed one); `localAddr`/`remoteAddr` then hold that path, ports are 0
   */
  readonly unixPath?: string;
}
