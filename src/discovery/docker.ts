/**
 * Container names and images from the Docker Engine API, when its socket is mounted into the
 * agent's container (`-v /var/run/docker.sock:/var/run/docker.sock:ro`): one list of the running
 * containers at start, then the `/events` stream (container start / destroy) keeps the cache
 * current; a container the cache misses is inspected once in the background. Lookups are
 * synchronous and per process (the identity of a process is resolved once): nothing here is on
 * the span path. Plain HTTP/1.1 over the unix socket (node:http `socketPath`), unversioned paths
 * (the daemon's own API version), JSON bodies as the Engine API documents them.
 */
import { existsSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export interface DockerContainerInfo {
  readonly id: string;
  /** without the leading '/' */
  readonly name: string;
  readonly image: string;
  /** label com.docker.compose.service */
  readonly composeService?: string;
}

export interface DockerMetadataOptions {
  readonly socketPath?: string;
  readonly log?: { warn(msg: string, fields?: Record<string, unknown>): void; info?(msg: string, fields?: Record<string, unknown>): void };
  /** called when a container becomes known (start event, or an inspect after a miss): processes selected before may be re-identified */
  readonly onLearned?: (info: DockerContainerInfo) => void;
}

interface ListEntry {
  Id: string;
  Names?: string[];
  Image?: string;
  Labels?: Record<string, string> | null;
}

interface InspectBody {
  Id: string;
  Name?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
}

interface EventBody {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

const MAX_BODY = 16 * 1024 * 1024;
const MAX_CACHE = 4096;

function info(id: string, name: string | undefined, image: string | undefined, labels: Record<string, string> | null | undefined): DockerContainerInfo {
  const compose = labels?.['com.docker.compose.service'];
  const base = { id, name: (name ?? '').replace(/^\//, ''), image: image ?? '' };
  return compose ? { ...base, composeService: compose } : base;
}

export class DockerMetadata {
  private readonly _socket: string;
  private readonly _opts: DockerMetadataOptions;
  private readonly _byId = new Map<string, DockerContainerInfo>();
  private readonly _pending = new Set<string>();
  private _events?: IncomingMessage;
  private _closed = false;

  constructor(opts: DockerMetadataOptions = {}) {
    this._opts = opts;
    this._socket = opts.socketPath ?? DEFAULT_DOCKER_SOCKET;
  }

  /** whether the socket exists (the agent then starts this source) */
  static available(socketPath = DEFAULT_DOCKER_SOCKET): boolean {
    return existsSync(socketPath);
  }

  get size(): number {
    return this._byId.size;
  }

  /** Lists the running containers and follows the event stream; false when the API is unreachable. */
  async start(): Promise<boolean> {
    try {
      this._followEvents();
      const list = (await this._get('/containers/json')) as ListEntry[];
      for (const c of list) this._put(info(c.Id, c.Names?.[0], c.Image, c.Labels));
      this._opts.log?.info?.('Docker metadata', { socket: this._socket, containers: list.length });
      return true;
    } catch (err) {
      this._opts.log?.warn('Docker metadata unavailable', { socket: this._socket, error: (err as Error).message });
      this.close();
      return false;
    }
  }

  /** The cached container; a miss starts one background inspect of that id. */
  get(id: string): DockerContainerInfo | undefined {
    const hit = this._byId.get(id);
    if (hit !== undefined || this._closed) return hit;
    if (!this._pending.has(id) && this._pending.size < 64) {
      this._pending.add(id);
      this.inspect(id)
        .then((c) => {
          if (c) {
            this._put(c);
            this._opts.onLearned?.(c);
          }
        })
        .catch(() => {})
        .finally(() => this._pending.delete(id));
    }
    return undefined;
  }

  /** GET /containers/{id}/json; undefined for a 404 */
  async inspect(id: string): Promise<DockerContainerInfo | undefined> {
    const body = (await this._get(`/containers/${encodeURIComponent(id)}/json`, true)) as InspectBody | undefined;
    return body ? info(body.Id, body.Name, body.Config?.Image, body.Config?.Labels) : undefined;
  }

  close(): void {
    this._closed = true;
    this._events?.destroy();
    this._events = undefined;
  }

  private _put(c: DockerContainerInfo): void {
    this._byId.set(c.id, c);
    if (this._byId.size > MAX_CACHE) this._byId.delete(this._byId.keys().next().value!);
  }

  private _get(path: string, allow404 = false): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this._socket, path, method: 'GET', headers: { host: 'docker', accept: 'application/json' }, timeout: 5000 }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > MAX_BODY) req.destroy(new Error(`Docker API ${path}: body over ${MAX_BODY} bytes`));
          else chunks.push(d);
        });
        res.on('end', () => {
          if (allow404 && res.statusCode === 404) return resolve(undefined);
          if (res.statusCode !== 200) return reject(new Error(`Docker API ${path}: HTTP ${res.statusCode}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err as Error);
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`Docker API ${path}: timeout`)));
      req.on('error', reject);
      req.end();
    });
  }

  private _followEvents(): void {
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: ['start', 'destroy'] }));
    const req = request({ socketPath: this._socket, path: `/events?filters=${filters}`, method: 'GET', headers: { host: 'docker' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return;
      }
      this._events = res;
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        if (buf.length > MAX_BODY) buf = '';
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line !== '') this._onEvent(line);
        }
      });
      res.on('error', () => {});
    });
    req.on('error', () => {});
    req.end();
  }

  private _onEvent(line: string): void {
    let ev: EventBody;
    try {
      ev = JSON.parse(line) as EventBody;
    } catch {
      return;
    }
    const id = ev.Actor?.ID;
    if (ev.Type !== 'container' || id === undefined) return;
    const a = ev.Actor?.Attributes ?? {};
    if (ev.Action === 'start') {
      const c = info(id, a.name, a.image, a);
      this._put(c);
      this._opts.onLearned?.(c);
    } else if (ev.Action === 'destroy') this._byId.delete(id);
  }
}
