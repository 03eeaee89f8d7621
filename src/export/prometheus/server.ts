/**
 * Prometheus scrape endpoint (`prometheus_export.{port,path}`, and the internal-metrics
 * endpoint). Serves one or more metric stores, each through its {@link PrometheusView}, on
 * `GET <path>` (query string ignored); `HEAD` answers the headers only; other paths 404, other
 * methods 405. Each request to the path counts in `obi_prometheus_http_requests_total{port,path}`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentError } from '../../errors.ts';
import type { InternalMetrics } from '../../telemetry/internal.ts';
import type { MetricStore } from '../../telemetry/store.ts';
import { PrometheusView } from './view.ts';

export interface PrometheusServerOptions {
  /** TCP port; 0 picks a free one (see `port` after `start()`) */
  readonly port: number;
  /** default `/metrics` */
  readonly path?: string;
  /** bind address; default `0.0.0.0` */
  readonly host?: string;
  /** exposed in this order, concatenated */
  readonly stores: MetricStore | readonly MetricStore[];
  /** where `obi_prometheus_http_requests_total` is counted */
  readonly internal?: InternalMetrics;
  /**
   * More paths on the same port, each with its own stores (OBI serves the internal metrics
   * next to the application metrics when `internal_metrics.prometheus.port` equals
   * `prometheus_export.port`).
   */
  readonly extraPaths?: readonly { readonly path: string; readonly stores: readonly MetricStore[] }[];
}

export class PrometheusServer {
  readonly path: string;
  readonly host: string;
  private readonly _requestedPort: number;
  private readonly _internal: InternalMetrics | undefined;
  /** path → views, `path` included */
  private readonly _routes = new Map<string, readonly PrometheusView[]>();
  private _server: Server | undefined;
  private _port: number;

  constructor(options: PrometheusServerOptions) {
    const port = options.port;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid Prometheus port ${port}`);
    const path = options.path ?? '/metrics';
    if (!path.startsWith('/')) throw new RangeError(`Prometheus path must start with '/', got '${path}'`);
    this.path = path;
    this.host = options.host ?? '0.0.0.0';
    this._requestedPort = port;
    this._port = port;
    const stores = Array.isArray(options.stores) ? [...(options.stores as readonly MetricStore[])] : [options.stores as MetricStore];
    if (stores.length === 0) throw new RangeError('PrometheusServer needs at least one metric store');
    this._internal = options.internal;
    // one view per store, shared by the paths that serve it
    const views = new Map<MetricStore, PrometheusView>();
    const viewsOf = (list: readonly MetricStore[]): PrometheusView[] =>
      list.map((s) => {
        let v = views.get(s);
        if (v === undefined) {
          v = new PrometheusView(s);
          views.set(s, v);
        }
        return v;
      });
    this._routes.set(path, viewsOf(stores));
    for (const extra of options.extraPaths ?? []) {
      if (!extra.path.startsWith('/')) throw new RangeError(`Prometheus path must start with '/', got '${extra.path}'`);
      if (this._routes.has(extra.path)) throw new RangeError(`Prometheus path ${extra.path} is served twice`);
      if (extra.stores.length === 0) throw new RangeError(`Prometheus path ${extra.path} needs at least one metric store`);
      this._routes.set(extra.path, viewsOf(extra.stores));
    }
  }

  /** the bound port (the requested one, or the one picked for port 0 once started) */
  get port(): number {
    return this._port;
  }

  get listening(): boolean {
    return this._server !== undefined;
  }

  /** Listen; rejects with `OBI_ERR_PORT_IN_USE` when the port is taken. */
  start(): Promise<void> {
    if (this._server !== undefined) return Promise.resolve();
    const server = createServer((req, res) => {
      this._handle(req, res);
    });
    return new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        if (err.code === 'EADDRINUSE') {
          reject(
            new AgentError(
              'OBI_ERR_PORT_IN_USE',
              `Prometheus endpoint: port ${this._requestedPort} on ${this.host} is already in use (set prometheus_export.port / OTEL_EBPF_PROMETHEUS_PORT to a free port)`,
              { cause: err },
            ),
          );
        } else {
          reject(err);
        }
      };
      const onListening = (): void => {
        server.off('error', onError);
        this._server = server;
        this._port = (server.address() as AddressInfo).port;
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen({ port: this._requestedPort, host: this.host });
    });
  }

  /** Stop listening and close open connections. Idempotent. */
  stop(): Promise<void> {
    const server = this._server;
    if (server === undefined) return Promise.resolve();
    this._server = undefined;
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private _handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const views = this._routes.get(path);
    if (views === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    this._internal?.prometheusRequest(this._port, path);
    const contentType = views[0].contentType;
    Promise.all(views.map((v) => v.metrics())).then(
      (bodies) => {
        const body = bodies.length === 1 ? bodies[0] : bodies.join('\n');
        res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`error collecting metrics: ${String(err)}\n`);
      },
    );
  }
}
