/**
 * A minimal OTLP/HTTP receiver for the SDK comparison: accepts POSTs on /v1/traces,
 * /v1/metrics and /v1/logs, counts requests and spans (protobuf or JSON, gzip or
 * not) and answers 200 with an empty response message.
 */
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { countOtlpJsonSpans, countOtlpSpans } from './parse.ts';

export interface OtlpCounts {
  traceRequests: number;
  metricRequests: number;
  logRequests: number;
  spans: number;
  bytes: number;
  badRequests: number;
}

export class OtlpReceiver {
  readonly counts: OtlpCounts = { traceRequests: 0, metricRequests: 0, logRequests: 0, spans: 0, bytes: 0, badRequests: 0 };
  private readonly _server: Server;
  private _port = 0;

  constructor() {
    this._server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        this.counts.bytes += body.length;
        const c = this.counts;
        try {
          if (req.method !== 'POST') throw new Error('not a POST');
          if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
          const json = String(req.headers['content-type'] ?? '').includes('json');
          if (req.url === '/v1/traces') {
            c.traceRequests++;
            c.spans += json ? countOtlpJsonSpans(body.toString()) : countOtlpSpans(body);
          } else if (req.url === '/v1/metrics') c.metricRequests++;
          else if (req.url === '/v1/logs') c.logRequests++;
          else throw new Error(`unknown path ${req.url}`);
          res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
          res.end(json ? '{}' : undefined);
        } catch {
          c.badRequests++;
          res.writeHead(400);
          res.end();
        }
      });
    });
  }

  get port(): number {
    return this._port;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this._port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this._server.once('error', reject);
      this._server.listen(0, '127.0.0.1', () => resolve());
    });
    this._port = (this._server.address() as { port: number }).port;
  }

  reset(): void {
    for (const k of Object.keys(this.counts) as (keyof OtlpCounts)[]) this.counts[k] = 0;
  }

  async stop(): Promise<void> {
    this._server.closeAllConnections();
    await new Promise<void>((r) => this._server.close(() => r()));
  }
}
