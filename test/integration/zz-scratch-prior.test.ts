import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { TestAgent, freePort, run } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';
import { makeCert, startGatedServer, type GatedServer } from '../helpers/grpc.ts';

const root = join(import.meta.dirname, '../..');
let agent: TestAgent; let gate: Gate; let server: GatedServer; let port: number;
before(async () => {
  const binDir = join(root, 'build/test-go');
  mkdirSync(binDir, { recursive: true });
  await run('go', ['build', '-o', join(binDir, 'h2server'), join(root, 'test/helpers/apps/h2server/main.go')], { env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOCACHE: join(binDir, 'cache'), GOFLAGS: '' } });
  const tls = await makeCert('obi-h2-go-');
  gate = createGate();
  agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_LOG_LEVEL: 'DEBUG' });
  port = await freePort();
  server = await startGatedServer(agent, gate, join(binDir, 'h2server'), [String(port), String(await freePort()), tls.cert, tls.key], /listening/, {});
});
after(async () => { server?.stop(); await agent?.stop(); gate?.cleanup(); });
test('loop', async () => {
  const N = Number(process.env.N ?? 200);
  const pids: number[] = [];
  for (let i = 0; i < N; i++) {
    if (process.env.BIG) await runGated(agent, gate, 'curl', ['-s', '--http2-prior-knowledge', '-o', '/dev/null', `http://127.0.0.1:${port}/big`]);
    const r = await runGated(agent, gate, 'curl', ['-s', '--http2-prior-knowledge', '--data-binary', 'abcdefghij', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/echo`]);
    pids.push(r.pid);
  }
  await new Promise((res) => setTimeout(res, 3000));
  let missing = 0; const bad: unknown[] = [];
  for (const pid of pids) {
    const s = agent.spans((x) => x.service.pid === pid);
    if (s.length !== 1) { missing++; bad.push(pid); }
  }
  const srv = agent.spans((x) => x.service.pid === server.pid && x.name.startsWith('POST')).length;
  console.log(`RESULT missing client ${missing}/${N}, server spans ${srv}`, bad.slice(0, 10));
  writeFileSync('/tmp/gotls/prior-logs.txt', agent.logs.join('\n'));
});
