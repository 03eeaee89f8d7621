/**
 * The script the Node.js context correlation evaluates inside an attached process (through the
 * inspector session, docs/devdocs/correlation-node.md). It runs in the target, so it is plain
 * JavaScript for Node 18+, kept as a string here; the agent never evaluates it itself.
 *
 * What it does in the target:
 * - `http.server.request.start` (diagnostics_channel): a new context for the request (an id, its
 *   connection's ports, the time), entered into an AsyncLocalStorage so that timers, promises and callbacks of
 *   the handler carry it. Nothing is reported yet: at the context's first client call (below), the
 *   call is preceded by `s,<id>,<localPort>,<remotePort>,<hrtime ns at the request's start>`. Most
 *   requests make no call, and a report per request (its socket's ports, a string, the batch and
 *   the inspector message) cost the bench's Node.js server ~15 µs of its ~30 µs per request.
 * - `undici:request:create` (fetch) and `http.client.request.start` (http.request): remembers the
 *   context of the caller; `undici:client:sendHeaders` and the first `socket.write` of a
 *   ClientRequest report `c,<id>,<localPort>,<remotePort>,<hrtime ns>` just before the bytes go out.
 * - every other `net.Socket#write` of a client socket (Redis, databases, raw TCP) reports the
 *   context current at the call, `0` outside any request.
 * - a watchdog: when the agent has not pinged for `watchdogMs`, the hooks remove themselves and the
 *   inspector closes, so an agent that dies leaves nothing behind.
 * Reports go through the inspector binding `binding` (Runtime.addBinding): no socket, no file; they
 * are batched, lines joined by '\n', one binding call per 5 ms (an unref'd timer) or per 256
 * reports (each carries its own timestamp, so the delay changes no join).
 */

/** Name of the inspector binding (a global function while attached). */
export const NODE_CTX_BINDING = '__obiNodeCtxReport';
/** Name of the global object the hook keeps its controls on while attached. */
export const NODE_CTX_GLOBAL = '__obiNodeCtx';

const HOOK = String.raw`
(function (B, G, watchdogMs) {
  var g = globalThis;
  if (g[G]) return 'present';
  var send = g[B];
  if (typeof send !== 'function') return 'no-binding';
  var req = typeof require === 'function' ? require : process.getBuiltinModule;
  var dc = req('diagnostics_channel'), ah = req('async_hooks'), net = req('net'), http = req('http');
  var als = new ah.AsyncLocalStorage();
  // a server request: its id, its connection's ports (Node caches them per socket) and when it
  // started; reported ('s') at its first client call. The socket itself is not kept.
  function Ctx(id, s, t) { this.id = id; this.lp = s ? s.localPort : 0; this.rp = s ? s.remotePort : 0; this.t = t; this.r = false; }
  var next = 0, active = true, last = Date.now();
  var reqCtx = new WeakMap(), undiciSockets = new WeakSet(), reported = new WeakSet();
  // reports are sent in batches, one binding call per 5 ms (or per 256 reports): a call per request
  // cost the application more than its own handler in the bench's Node.js server
  var queue = [], flushing = false;
  function flush() {
    flushing = false;
    if (queue.length === 0) return;
    var payload = queue.join('\n');
    queue = [];
    try { send(payload); } catch (e) { /* binding gone */ }
  }
  function line(kind, id, lp, rp, t) {
    if (!lp || !rp) return;
    queue.push(kind + ',' + id + ',' + lp + ',' + rp + ',' + t);
    if (queue.length >= 256) flush();
    else if (!flushing) {
      flushing = true;
      var ft = setTimeout(flush, 5);
      if (ft.unref) ft.unref();
    }
  }
  // a client call in context c (null: outside any request) about to write on socket s
  function out(c, s) {
    if (!active || !s) return;
    // a write to a connecting socket goes out in a 'connect' listener registered by that write: report just before it
    if (s.connecting) { s.once('connect', function () { out(c, s); }); return; }
    if (c && !c.r) {
      c.r = true;
      line('s', c.id, c.lp, c.rp, c.t);
    }
    line('c', c ? c.id : 0, s.localPort, s.remotePort, process.hrtime.bigint());
  }
  function cur() { var c = als.getStore(); return c instanceof Ctx ? c : null; }
  var subs = {
    'http.server.request.start': function (m) {
      als.enterWith(new Ctx(++next, m.socket || (m.request && m.request.socket), process.hrtime.bigint()));
    },
    'undici:request:create': function (m) { reqCtx.set(m.request, cur()); },
    'undici:client:connected': function (m) { if (m.socket) undiciSockets.add(m.socket); },
    'undici:client:sendHeaders': function (m) {
      if (m.socket) undiciSockets.add(m.socket);
      var c = reqCtx.get(m.request);
      out(c === undefined ? null : c, m.socket);
    },
    'http.client.request.start': function (m) { if (!reqCtx.has(m.request)) reqCtx.set(m.request, cur()); }
  };
  for (var k in subs) dc.subscribe(k, subs[k]);
  var proto = net.Socket.prototype, origWrite = proto.write, ownWrite = Object.prototype.hasOwnProperty.call(proto, 'write');
  function write() {
    if (active) {
      try {
        if (!undiciSockets.has(this)) {
          var msg = this._httpMessage;
          if (msg) {
            if (msg instanceof http.ClientRequest && !reported.has(msg)) {
              reported.add(msg);
              var c = reqCtx.get(msg);
              out(c === undefined ? cur() : c, this);
            }
          } else if (!this.server) out(cur(), this);
        }
      } catch (e) { /* never disturb the application */ }
    }
    return origWrite.apply(this, arguments);
  }
  proto.write = write;
  var timer;
  function stop(closeInspector) {
    if (!active) return 'stopped';
    flush();
    active = false;
    for (var k in subs) { try { dc.unsubscribe(k, subs[k]); } catch (e) {} }
    if (proto.write === write) { if (ownWrite) proto.write = origWrite; else delete proto.write; } // else someone wrapped us: stay inert
    clearInterval(timer);
    try { als.disable(); } catch (e) {}
    delete g[G];
    try { delete g[B]; } catch (e) {} // Runtime.removeBinding leaves the function behind
    if (closeInspector) { try { req('inspector').close(); } catch (e) {} }
    return 'stopped';
  }
  timer = setInterval(function () { if (Date.now() - last > watchdogMs) stop(true); }, Math.max(1000, watchdogMs / 4));
  if (timer.unref) timer.unref();
  g[G] = { ping: function () { last = Date.now(); return 'ok'; }, stop: stop, version: 1 };
  return 'installed';
})`;

/** The expression that installs the hook (evaluated with the command-line API, for `require`). */
export function hookExpression(watchdogMs: number): string {
  return `${HOOK}(${JSON.stringify(NODE_CTX_BINDING)}, ${JSON.stringify(NODE_CTX_GLOBAL)}, ${Math.trunc(watchdogMs)})`;
}

/** The expression that keeps the hook alive (the watchdog's ping). */
export function pingExpression(): string {
  return `(globalThis[${JSON.stringify(NODE_CTX_GLOBAL)}] ? globalThis[${JSON.stringify(NODE_CTX_GLOBAL)}].ping() : 'absent')`;
}

/** The expression that removes the hook (the inspector is closed separately). */
export function stopExpression(): string {
  return `(globalThis[${JSON.stringify(NODE_CTX_GLOBAL)}] ? globalThis[${JSON.stringify(NODE_CTX_GLOBAL)}].stop(false) : 'absent')`;
}
