/**
 * A Kubernetes API server peer for tests (no API server can run on these machines): it serves,
 * from recorded objects in the API's JSON format, what the informers of @kubernetes/client-node
 * ask for, as the API documents it (https://kubernetes.io/docs/reference/using-api/api-concepts/):
 *
 * - list: `GET /api/v1/pods`, `/apis/apps/v1/replicasets`, `/apis/batch/v1/jobs` → a `<Kind>List`
 *   with `metadata.resourceVersion`, honouring `fieldSelector=spec.nodeName=<node>` on pods
 *   (other field selectors are refused with 400, as unsupported ones are);
 * - watch: the same paths with `watch=true&resourceVersion=N` → a chunked stream of
 *   `{"type":"ADDED"|"MODIFIED"|"DELETED","object":{...}}` lines, the events after N first, then
 *   each new one as the test publishes it; a resourceVersion older than the kept history → 410
 *   Gone (`Status` object), so the client relists;
 * - `Authorization: Bearer <token>` required (401 `Status` otherwise);
 * - HTTPS with a certificate made for the run (openssl, CN kube-apiserver, SAN IP 127.0.0.1) that
 *   the kubeconfig trusts through `certificate-authority-data`, as a cluster's kubeconfig does.
 *
 * Every request is recorded (method, path, query) for assertions.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'obi-kube-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=kube-apiserver',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: { nodeName?: string; [k: string]: unknown };
  [k: string]: unknown;
}

interface Resource {
  readonly path: string;
  readonly listKind: string;
  readonly apiVersion: string;
  readonly kind: string;
  objects: Map<string, KubeObject>;
  events: { rv: number; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }[];
  watchers: Set<{ res: ServerResponse; node?: string }>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly authorization?: string;
}

export class KubeApiServerPeer {
  readonly token: string;
  readonly requests: RecordedRequest[] = [];
  private readonly _server: Server;
  private readonly _cert: string;
  private _rv = 1000;
  private readonly _resources: Resource[];
  port = 0;

  constructor(token = 'test-token') {
    this.token = token;
    const r = (path: string, apiVersion: string, kind: string): Resource => ({ path, listKind: `${kind}List`, apiVersion, kind, objects: new Map(), events: [], watchers: new Set() });
    this._resources = [r('/api/v1/pods', 'v1', 'Pod'), r('/apis/apps/v1/replicasets', 'apps/v1', 'ReplicaSet'), r('/apis/batch/v1/jobs', 'batch/v1', 'Job')];
    const tls = selfSignedCert();
    this._cert = tls.cert;
    this._server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => this._handle(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this._server.listen(0, '127.0.0.1', resolve));
    this.port = (this._server.address() as { port: number }).port;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** a kubeconfig for this server (token auth) */
  kubeconfig(): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: peer',
      '  cluster:',
      `    server: ${this.url}`,
      `    certificate-authority-data: ${Buffer.from(this._cert).toString('base64')}`,
      'users:',
      '- name: agent',
      '  user:',
      `    token: ${this.token}`,
      'contexts:',
      '- name: peer',
      '  context:',
      '    cluster: peer',
      '    user: agent',
      'current-context: peer',
      '',
    ].join('\n');
  }

  /** adds or replaces an object (kind decides the resource) and tells the watchers */
  apply(obj: KubeObject): void {
    const res = this._byKind(obj.kind);
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const type = res.objects.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = { ...obj, apiVersion: res.apiVersion, kind: res.kind, metadata: { ...obj.metadata, resourceVersion: String(++this._rv) } };
    res.objects.set(key, stored);
    this._publish(res, type, stored);
  }

  delete(kind: string, namespace: string, name: string): void {
    const res = this._byKind(kind);
    const key = `${namespace}/${name}`;
    const obj = res.objects.get(key);
    if (!obj) return;
    res.objects.delete(key);
    this._publish(res, 'DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this._rv) } });
  }

  async stop(): Promise<void> {
    for (const r of this._resources) for (const w of r.watchers) w.res.end();
    this._server.closeAllConnections();
    await new Promise<void>((resolve) => this._server.close(() => resolve()));
  }

  private _byKind(kind: string | undefined): Resource {
    const r = this._resources.find((x) => x.kind === kind);
    if (!r) throw new Error(`peer: unknown kind ${kind}`);
    return r;
  }

  private _publish(res: Resource, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void {
    res.events.push({ rv: this._rv, type, object });
    if (res.events.length > 100) res.events.shift();
    for (const w of res.watchers) if (this._nodeOk(object, w.node)) w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private _nodeOk(o: KubeObject, node: string | undefined): boolean {
    return node === undefined || o.spec?.nodeName === node;
  }

  private _status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  }

  private _handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://peer');
    const query = Object.fromEntries(u.searchParams);
    this.requests.push({ method: req.method ?? '', path: u.pathname, query, authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${this.token}`) return this._status(res, 401, 'Unauthorized', 'Unauthorized');
    const r = this._resources.find((x) => x.path === u.pathname);
    if (!r || req.method !== 'GET') return this._status(res, 404, 'NotFound', `the server could not find the requested resource`);
    let node: string | undefined;
    const fs = query.fieldSelector;
    if (fs !== undefined && fs !== '') {
      const m = /^spec\.nodeName=(.+)$/.exec(fs);
      if (!m || r.kind !== 'Pod') return this._status(res, 400, 'BadRequest', `field label not supported: ${fs}`);
      node = m[1];
    }
    if (query.watch === 'true' || query.watch === '1') {
      const since = Number(query.resourceVersion ?? '0');
      const oldest = r.events.length > 0 ? r.events[0].rv : this._rv + 1;
      if (since > 0 && since < oldest - 1 && r.events.length >= 100) {
        return this._status(res, 410, 'Expired', `too old resource version: ${since}`);
      }
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      for (const e of r.events) if (e.rv > since && this._nodeOk(e.object, node)) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
      const w = { res, node };
      r.watchers.add(w);
      req.on('close', () => r.watchers.delete(w));
      return;
    }
    const items = [...r.objects.values()].filter((o) => this._nodeOk(o, node));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: r.listKind, apiVersion: r.apiVersion, metadata: { resourceVersion: String(this._rv) }, items }));
  }
}
