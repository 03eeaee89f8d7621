/**
 * A minimal Chrome DevTools Protocol client over the WebSocket of a Node.js inspector
 * (docs/devdocs/correlation-node.md): commands with ids and timeouts, events to one callback.
 * Uses the WebSocket client built into Node (22+).
 */

export interface CdpEventHandler {
  (method: string, params: Record<string, unknown>): void;
}

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class CdpSession {
  private readonly _ws: WebSocket;
  private _next = 1;
  private readonly _pending = new Map<number, Pending>();
  private _closed = false;
  onEvent?: CdpEventHandler;
  onClose?: () => void;

  private constructor(ws: WebSocket) {
    this._ws = ws;
    ws.addEventListener('message', (ev) => this._onMessage(ev.data));
    ws.addEventListener('close', () => this._onClosed());
    ws.addEventListener('error', () => this._onClosed());
  }

  /** Connects to `url` (ws://127.0.0.1:port/uuid). */
  static open(url: string, timeoutMs: number): Promise<CdpSession> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error('inspector WebSocket: connect timeout'));
      }, timeoutMs);
      ws.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new CdpSession(ws));
      });
      ws.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error('inspector WebSocket: connect failed'));
      });
    });
  }

  get closed(): boolean {
    return this._closed;
  }

  send(method: string, params: Record<string, unknown> = {}, timeoutMs = 5000): Promise<Record<string, unknown>> {
    if (this._closed) return Promise.reject(new Error('inspector session closed'));
    const id = this._next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new Error(`inspector: ${method} timed out`));
      }, timeoutMs);
      this._pending.set(id, { resolve, reject, timer });
      this._ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Runtime.evaluate; resolves with the returned value, rejects on an exception. */
  async evaluate(expression: string, timeoutMs = 5000): Promise<unknown> {
    const r = await this.send('Runtime.evaluate', { expression, includeCommandLineAPI: true, returnByValue: true, silent: true }, timeoutMs);
    if (r.exceptionDetails !== undefined) throw new Error(`inspector: evaluation failed: ${JSON.stringify(r.exceptionDetails).slice(0, 300)}`);
    return (r.result as { value?: unknown } | undefined)?.value;
  }

  close(): void {
    if (this._closed) return;
    this._ws.close();
    this._onClosed();
  }

  private _onMessage(data: unknown): void {
    let msg: { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message?: string } };
    try {
      msg = JSON.parse(String(data)) as typeof msg;
    } catch {
      return;
    }
    if (typeof msg.id === 'number') {
      const p = this._pending.get(msg.id);
      if (!p) return;
      this._pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error !== undefined) p.reject(new Error(`inspector: ${msg.error.message ?? 'error'}`));
      else p.resolve(msg.result ?? {});
    } else if (typeof msg.method === 'string') {
      this.onEvent?.(msg.method, msg.params ?? {});
    }
  }

  private _onClosed(): void {
    if (this._closed) return;
    this._closed = true;
    for (const p of this._pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('inspector session closed'));
    }
    this._pending.clear();
    this.onClose?.();
  }
}
