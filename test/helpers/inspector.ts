/**
 * Memory of another Node.js process (the agent under test, started with
 * `--inspect=127.0.0.1:<port>` through NODE_OPTIONS): a full garbage collection forced through its
 * inspector, then its RSS and `process.memoryUsage()`. The soak and churn runs measure RSS after
 * such a collection, so what they compare is memory the agent holds, not garbage V8 has not yet
 * collected (test/soak/soak.ts says why).
 */

export interface MemorySample {
  /** MB after the collection */
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** RSS just before the collection (MB) */
  readonly rssBefore: number;
}

const MB = 2 ** 20;

export class InspectorMemory {
  private _ws: WebSocket | undefined;
  private _id = 0;
  private readonly _pending = new Map<number, (msg: { result?: { result?: { value?: unknown } } }) => void>();
  private readonly _port: number;

  constructor(port: number) {
    this._port = port;
  }

  /** NODE_OPTIONS for the process to measure (the existing options kept) */
  static nodeOptions(port: number, existing = process.env.NODE_OPTIONS ?? ''): string {
    return `${existing} --inspect=127.0.0.1:${port}`.trim();
  }

  private async _connect(): Promise<WebSocket> {
    if (this._ws !== undefined) return this._ws;
    const list = (await (await fetch(`http://127.0.0.1:${this._port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
    const ws = new WebSocket(list[0].webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`inspector on port ${this._port}: connection failed`));
    });
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as { id?: number; result?: { result?: { value?: unknown } } };
      if (msg.id !== undefined) {
        this._pending.get(msg.id)?.(msg);
        this._pending.delete(msg.id);
      }
    };
    this._ws = ws;
    return ws;
  }

  /** one Chrome DevTools Protocol command; resolves with the whole reply */
  async command(method: string, params: object = {}): Promise<{ result?: Record<string, unknown> }> {
    return (await this._send(method, params)) as { result?: Record<string, unknown> };
  }

  private async _send(method: string, params: object = {}): Promise<{ result?: { result?: { value?: unknown } } }> {
    const ws = await this._connect();
    const id = ++this._id;
    ws.send(JSON.stringify({ id, method, params }));
    return await new Promise((resolve) => this._pending.set(id, resolve));
  }

  private async _usage(): Promise<NodeJS.MemoryUsage> {
    const r = await this._send('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    return JSON.parse(String(r.result?.result?.value)) as NodeJS.MemoryUsage;
  }

  /** force a full collection in the process, then read its memory */
  async sample(): Promise<MemorySample> {
    const before = await this._usage();
    await this._send('HeapProfiler.collectGarbage');
    const m = await this._usage();
    return { rss: m.rss / MB, heapUsed: m.heapUsed / MB, external: m.external / MB, arrayBuffers: m.arrayBuffers / MB, rssBefore: before.rss / MB };
  }

  close(): void {
    this._ws?.close();
    this._ws = undefined;
  }
}
