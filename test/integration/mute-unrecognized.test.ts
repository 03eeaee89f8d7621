/**
 * A connection no registered protocol recognises is muted in the kernel (obi_conn_info.muted,
 * bpf/abi/events.h): once user space has given up on it (8 segments), its socket reads and writes
 * are neither copied nor submitted, only counted (OBI_STAT_MUTED). The mute belongs to that socket:
 * a new connection on the reused fd is captured again.
 *
 * The server is Python's socketserver echoing lines: a line protocol of its own, which is the point
 * (no parser knows it). One blocking recv and one send per line, so each round trip is exactly two
 * socket syscalls of the traced server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { TestAgent, freePort, startProcess, waitFor, waitForPort, type Proc } from '../helpers/harness.ts';

const ECHO = `
import socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)
socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(('127.0.0.1', int(sys.argv[1])), H) as s:
    s.serve_forever()
`;

/** a client connection that sends a line and waits for its echo */
class LineClient {
  private _buf = '';
  private readonly _sock: Socket;
  private constructor(sock: Socket) {
    this._sock = sock;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (this._buf += d));
  }

  static async open(port: number): Promise<LineClient> {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    return new LineClient(s);
  }

  async roundTrip(line: string): Promise<void> {
    this._buf = '';
    this._sock.write(`${line}\n`);
    await waitFor(`echo of ${line}`, () => this._buf === `${line}\n`, 5000, 2);
  }

  async close(): Promise<void> {
    this._sock.end();
    await once(this._sock, 'close');
  }
}

describe('unrecognized connections are muted in the kernel', () => {
  let agent: TestAgent;
  let server: Proc;
  let port: number;

  before(async () => {
    port = await freePort();
    server = startProcess('python3', ['-c', ECHO, String(port)]);
    await waitForPort(port);
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: String(port) });
    await agent.waitTracked(server.pid);
  });

  after(async () => {
    await agent?.stop();
    await server?.kill();
  });

  const metric = async (name: string): Promise<number> => (await agent.metricValue(name, {})) ?? -1;

  test('after 8 unrecognized segments the socket is muted: further I/O is counted, never submitted; a new socket on the fd is not', async () => {
    const c = await LineClient.open(port);
    // 4 round trips: 4 reads and 4 writes of the server, the 8 segments detection tries
    for (let i = 0; i < 4; i++) await c.roundTrip(`ping ${i} of a protocol no parser knows`);
    await waitFor('the connection muted', async () => (await metric('obi_ingest_connections_muted_total')) === 1);
    assert.equal(await metric('obi_ingest_connections_unrecognized_total'), 1);
    assert.equal(agent.agent.status().kernelMuted, 0n);

    const before = agent.agent.status();
    for (let i = 0; i < 20; i++) await c.roundTrip(`more ${i}`);
    const after = agent.agent.status();
    assert.equal(after.kernelMuted - before.kernelMuted, 40n, '20 reads and 20 writes skipped in the kernel');
    assert.equal(after.kernelEvents - before.kernelEvents, 0n, 'no record submitted for them');

    // the server closes its end; the next connection is accepted on the same fd and captured again
    await c.close();
    const c2 = await LineClient.open(port);
    const events0 = agent.agent.status().kernelEvents;
    for (let i = 0; i < 2; i++) await c2.roundTrip(`again ${i}`);
    await waitFor('the new connection captured', () => agent.agent.status().kernelEvents - events0 >= 4n);
    assert.equal(agent.agent.status().kernelMuted, after.kernelMuted, 'nothing of the new socket muted');
    await c2.close();
    assert.equal(agent.agent.status().kernelDropped, 0n);
  });
});
