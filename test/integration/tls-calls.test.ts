/**
 * `obi_ebpf_tls_calls_total{process}` counts the TLS reads and writes the uprobes intercept, on the
 * real kernel with Debian's libssl3: those of the selected server, and those of a client that is not
 * selected but runs the same library file (the probes are attached per file, so its calls trap too;
 * the count is what the agent costs such a process).
 *
 * Both ends are Python's ssl module (SSL_read_ex / SSL_write_ex, which the probes reach through
 * ssl_read_internal / ssl_write_internal): one recv and one sendall per message on either side, so
 * N round trips are exactly N reads and N writes of each, plus the server's read that sees the
 * client go away. The client is a process of its own, started after the agent, and never selected.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestAgent, freePort, run, startProcess, waitFor, waitForPort, type Proc } from '../helpers/harness.ts';
import { makeCert } from '../helpers/grpc.ts';

const SERVER = `
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
ls = socket.create_server(('127.0.0.1', int(sys.argv[1])))
while True:
    raw, _ = ls.accept()
    try:
        c = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        continue  # a port probe that connects and closes
    with c:
        while True:
            try:
                d = c.recv(4096)
            except (ssl.SSLError, OSError):
                break
            if not d:
                break
            c.sendall(b'pong ' + d)
`;

const CLIENT = `
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1]))), server_hostname='localhost') as c:
    for i in range(int(sys.argv[3])):
        c.sendall(b'ping %d' % i)
        assert c.recv(4096) == b'pong ping %d' % i
`;

const ROUND_TRIPS = 25;

describe('TLS calls intercepted by the uprobes, of selected and of other processes', () => {
  let agent: TestAgent;
  let server: Proc;
  let port: number;
  let dir: string;
  let cert: string;

  before(async () => {
    let key: string;
    ({ dir, cert, key } = await makeCert('obi-tls-calls-'));
    writeFileSync(join(dir, 'server.py'), SERVER);
    writeFileSync(join(dir, 'client.py'), CLIENT);
    port = await freePort();
    server = startProcess('python3', [join(dir, 'server.py'), String(port), cert, key]);
    await waitForPort(port);
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: String(port) });
    await agent.waitTracked(server.pid);
    await waitFor('libssl attached', () => agent.agent.tlsLibraries().some((l) => /libssl\.so\.3/.test(l.path) && l.users.includes(server.pid)));
  });

  after(async () => {
    await agent?.stop();
    await server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const calls = async (process: string): Promise<number> => (await agent.metricValue('obi_ebpf_tls_calls_total', { process })) ?? -1;

  test(`${ROUND_TRIPS} round trips: the server's reads and writes as selected, the unselected client's as other`, async () => {
    const [selected0, other0] = [await calls('selected'), await calls('other')];
    assert.ok(selected0 >= 0 && other0 >= 0, 'both series exported');
    await run('python3', [join(dir, 'client.py'), String(port), cert, String(ROUND_TRIPS)]);
    // the server's last read returns when the client has gone
    await waitFor('the server read the end of the connection', async () => (await calls('selected')) - selected0 === 2 * ROUND_TRIPS + 1);
    assert.equal(await calls('other'), other0 + 2 * ROUND_TRIPS, "the client's reads and writes, trapped although it is not selected");
    assert.ok(!agent.agent.status().tracked.some((p) => p.pid !== server.pid && p.info.exePath.includes('python')), 'the client is not selected');
  });
});
