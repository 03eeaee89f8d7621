/**
 * Writes the DNS parser fixtures (src/protocols/dns/fixtures/*.md) from real sessions: dig
 * against dnsmasq (dns-server.ts) through a recording relay on loopback (UDP and TCP), one
 * block per datagram or TCP read. The expected records are listed below by hand.
 *
 *   .tools/node/bin/node test/helpers/dns-capture.ts
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDnsmasq } from './dns-server.ts';

interface Chunk {
  type: 'request' | 'response';
  data: Buffer;
}

const out = join(import.meta.dirname, '../../src/protocols/dns/fixtures');
const server = await startDnsmasq();
const udp: Chunk[][] = [];
const tcp: Chunk[][] = [];

// UDP relay: every client datagram to the server, every answer back
const relay = createSocket('udp4');
await new Promise<void>((r) => relay.bind(0, '127.0.0.1', () => r()));
relay.on('message', (msg, from) => {
  const conv: Chunk[] = [{ type: 'request', data: Buffer.from(msg) }];
  udp.push(conv);
  const up = createSocket('udp4');
  up.on('message', (ans) => {
    conv.push({ type: 'response', data: Buffer.from(ans) });
    relay.send(ans, from.port, from.address);
    up.close();
  });
  up.send(msg, 53, server.address);
});
const tcpRelay = createServer((c) => {
  const conv: Chunk[] = [];
  tcp.push(conv);
  const up = connect(53, server.address);
  c.on('data', (d) => {
    conv.push({ type: 'request', data: Buffer.from(d) });
    up.write(d);
  });
  up.on('data', (d) => {
    conv.push({ type: 'response', data: Buffer.from(d) });
    c.write(d);
  });
  c.on('end', () => up.end());
  up.on('end', () => c.end());
});
await new Promise<void>((r) => tcpRelay.listen((relay.address() as { port: number }).port, '127.0.0.1', () => r()));
const port = String((relay.address() as { port: number }).port);

const dig = (...args: string[]) => promisify(execFile)('dig', ['@127.0.0.1', '-p', port, '+tries=1', '+time=5', ...args]);
await dig('web.obi.test', 'A');
await dig('missing.obi.test', 'A');
await dig('big.obi.test', 'TXT');
await dig('web.obi.test', 'AAAA', '+noedns');
relay.close();
tcpRelay.close();
await server.stop();

function block(c: Chunk): string {
  const lines: string[] = [];
  for (let i = 0; i < c.data.length; i += 32) lines.push([...c.data.subarray(i, i + 32)].map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join(''));
  return `### ${c.type}\n\`\`\`bin\n${lines.join('\n')}\n\`\`\`\n`;
}

const rec = (transport: string, name: string, type: string, rcode: string, answers: number, tc: boolean) =>
  JSON.stringify({ category: 'dns', transport, name, type, rcode, answers, tc, errorType: rcode === 'NOERROR' ? null : rcode });
const udpExpect = [
  rec('udp', 'web.obi.test', 'A', 'NOERROR', 1, false),
  rec('udp', 'missing.obi.test', 'A', 'NXDOMAIN', 0, false),
  rec('udp', 'big.obi.test', 'TXT', 'NOERROR', 3, true),
  rec('udp', 'web.obi.test', 'AAAA', 'NOERROR', 0, false),
];
const head = (what: string) => [`# DNS fixtures: ${what}`, '', 'Captured by test/helpers/dns-capture.ts: dig (bind9-dnsutils) against dnsmasq through a recording relay.', ''];
const udpText = [...head('dig over UDP, one datagram per block'), ...udp.map((conv, i) => [`## case: ${JSON.parse(udpExpect[i]).type} ${JSON.parse(udpExpect[i]).name}`, ...conv.map(block), '### close', '### expect', '```json', `[${udpExpect[i]}]`, '```', '### counters', '```json', '{ "invalidFrames": 0, "droppedBytes": 0, "unpairedFrames": 0, "partialFrames": 0, "parserErrors": 0 }', '```', ''].join('\n'))];
writeFileSync(join(out, 'udp.md'), udpText.join('\n'));
const tcpText = [...head('dig retrying over TCP after a truncated UDP answer (two-byte length prefix)'), ...tcp.map((conv) => ['## case: TXT big.obi.test over TCP', ...conv.map(block), '### close', '### expect', '```json', `[${rec('tcp', 'big.obi.test', 'TXT', 'NOERROR', 8, false)}]`, '```', '### counters', '```json', '{ "invalidFrames": 0, "droppedBytes": 0, "unpairedFrames": 0, "partialFrames": 0, "parserErrors": 0 }', '```', ''].join('\n'))];
writeFileSync(join(out, 'tcp.md'), tcpText.join('\n'));
console.log('udp conversations', udp.length, 'tcp', tcp.length);
