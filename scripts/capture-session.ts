/**
 * Records a real client/server session as protocol fixture steps (src/protocols/common/fixtures.ts
 * format): a TCP proxy on 127.0.0.1:<listen> forwarding to 127.0.0.1:<target>, writing every chunk
 * it relays, in order, as `### request` (client → server) or `### response` blocks with escaped
 * bytes, to <out.md>. The first connection only; the expectations are written by hand afterwards.
 *
 *   node scripts/capture-session.ts <listen> <target> <out.md>
 */
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const [listen, target, out] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];

function escape(b: Buffer): string {
  const lines: string[] = [];
  let line = '';
  for (const c of b) {
    line += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
    if (line.length >= 96) {
      // keep lines short, never inside an escape (the file's line breaks are not data)
      lines.push(line);
      line = '';
    }
  }
  if (line.length > 0) lines.push(line);
  return lines.join('\n');
}

const steps: string[] = [];
const server = createServer((client) => {
  server.close();
  const upstream = connect(target, '127.0.0.1');
  const record = (kind: string) => (d: Buffer) => void steps.push(`### ${kind}\n\`\`\`bin\n${escape(d)}\n\`\`\`\n`);
  client.on('data', record('request'));
  upstream.on('data', record('response'));
  client.pipe(upstream);
  upstream.pipe(client);
  const finish = () => {
    writeFileSync(out, steps.join(''));
    client.destroy();
    upstream.destroy();
  };
  client.on('close', finish);
  upstream.on('close', finish);
});
server.listen(listen, '127.0.0.1');
