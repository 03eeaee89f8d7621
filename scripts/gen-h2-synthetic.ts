/**
 * Writes the hand-specified HTTP/2 parser fixtures (src/protocols/http2/fixtures/synthetic.md):
 * frames built here from RFC 9113 and RFC 7541 (a few lines of encoder), each case with the
 * records the bytes must yield. Run by hand: `.tools/node/bin/node scripts/gen-h2-synthetic.ts`.
 */
import { writeFileSync } from 'node:fs';
import { encodeFrame } from '../src/protocols/http2/build.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function frame(type: number, flags: number, sid: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  return encodeFrame(type, flags, sid, typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload);
}
const int = (v: number, prefix: number, first: number): number[] => {
  const max = (1 << prefix) - 1;
  if (v < max) return [first | v];
  const out = [first | max];
  v -= max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
};
const str = (s: string): number[] => [...int(Buffer.byteLength(s), 7, 0), ...Buffer.from(s, 'latin1')];
/** header block: [name, value] literal without indexing (literal name); ['#', n] indexed; ['+name', value] literal with incremental indexing */
function block(fields: [string, string | number][]): Buffer {
  const out: number[] = [];
  for (const [n, v] of fields) {
    if (n === '#') out.push(...int(v as number, 7, 0x80));
    else if (n.startsWith('+')) out.push(0x40, ...str(n.slice(1)), ...str(String(v)));
    else out.push(0x00, ...str(n), ...str(String(v)));
  }
  return Buffer.from(out);
}
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
const grpcMsg = (s: string): Buffer => Buffer.concat([Buffer.from([0]), u32(s.length), Buffer.from(s)]);
const SETTINGS0 = frame(4, 0, 0);
const SETTINGS_ACK = frame(4, 1, 0);
const GET = ['#', 2] as [string, number];
const POST = ['#', 3] as [string, number];
const HTTP = ['#', 6] as [string, number];
const S200 = ['#', 8] as [string, number];

type Step = { dir: 'request' | 'response'; data: Buffer; gap?: number; ts?: number } | { close: true };

function md(title: string, intro: string, steps: Step[], expect: unknown[], counters?: unknown): string {
  let out = `## case: ${title}\n${intro}\n`;
  for (const s of steps) {
    if ('close' in s) {
      out += '### close\n';
      continue;
    }
    out += `### ${s.dir}${s.ts !== undefined ? ` ts=${s.ts}` : ''}\n\`\`\`hex\n`;
    for (let i = 0; i < s.data.length; i += 32) out += [...s.data.subarray(i, i + 32)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('') + '\n';
    if (s.gap !== undefined) out += `<gap ${s.gap}>\n`;
    out += '```\n';
  }
  out += `### expect\n\`\`\`json\n${JSON.stringify(expect)}\n\`\`\`\n`;
  if (counters !== undefined) out += `### counters\n\`\`\`json\n${JSON.stringify(counters)}\n\`\`\`\n`;
  return out + '\n';
}
const req = (data: Buffer, ts?: number): Step => ({ dir: 'request', data, ts });
const resp = (data: Buffer, ts?: number): Step => ({ dir: 'response', data, ts });
const cat = Buffer.concat;

const cases: string[] = [];

// 1. CONTINUATION, padding, priority
{
  const hb = block([GET, HTTP, [':path', '/cont?a=b'], [':authority', 'example.com'], ['user-agent', 'ua/1']]);
  const padded = cat([Buffer.from([3]), Buffer.from([0, 0, 0, 0, 16]), hb.subarray(0, 10), Buffer.alloc(3)]); // PADDED|PRIORITY
  cases.push(
    md(
      'HEADERS split over two CONTINUATION frames, with padding and priority; padded DATA',
      'The header block is HEADERS (PADDED|PRIORITY) + CONTINUATION + CONTINUATION (END_HEADERS); the response body is DATA with 4 bytes of padding.',
      [
        req(cat([PREFACE, SETTINGS0, frame(1, 0x08 | 0x20 | 0x01, 1, padded), frame(9, 0, 1, hb.subarray(10, 20)), frame(9, 0x04, 1, hb.subarray(20))])),
        resp(cat([SETTINGS0, SETTINGS_ACK, frame(1, 0x04, 1, block([S200, ['content-type', 'text/plain']]))])),
        resp(frame(0, 0x08 | 0x01, 1, cat([Buffer.from([4]), Buffer.from('hello'), Buffer.alloc(4)]))),
        { close: true },
      ],
      [{ category: 'http', method: 'GET', path: '/cont', query: 'a=b', host: 'example.com', userAgent: 'ua/1', status: 200, requestBodySize: 0, responseBodySize: 5, startNs: 1000, endNs: 3000, protocolVersion: '2', truncated: null }],
      { invalidFrames: 0 },
    ),
  );
}

// 2. control frames interleaved
{
  cases.push(
    md(
      'PING, WINDOW_UPDATE, PRIORITY, SETTINGS ACK and GOAWAY between the frames of two streams',
      'Control frames carry nothing to report and must not disturb the streams around them.',
      [
        req(cat([PREFACE, SETTINGS0, frame(6, 0, 0, Buffer.alloc(8)), frame(1, 0x04, 1, block([POST, HTTP, [':path', '/p']])), frame(8, 0, 0, u32(1000)), frame(2, 0, 1, Buffer.alloc(5)), frame(0, 0x01, 1, 'abc')])),
        req(frame(1, 0x05, 3, block([GET, HTTP, [':path', '/q']]))),
        resp(cat([SETTINGS_ACK, frame(6, 1, 0, Buffer.alloc(8)), frame(1, 0x04, 3, block([['#', 13]])), frame(8, 0, 3, u32(10)), frame(0, 0x01, 3, 'nope')])),
        resp(cat([frame(1, 0x04, 1, block([S200])), frame(0, 0x01, 1, 'ok'), frame(7, 0, 0, cat([u32(3), u32(0)]))])),
        { close: true },
      ],
      [
        { category: 'http', method: 'GET', path: '/q', status: 404, requestBodySize: 0, responseBodySize: 4, startNs: 2000, endNs: 3000 },
        { category: 'http', method: 'POST', path: '/p', status: 200, requestBodySize: 3, responseBodySize: 2, startNs: 1000, endNs: 4000 },
      ],
      { invalidFrames: 0 },
    ),
  );
}

// 3. gRPC: trailers-only, reset by the client (deadline and cancel), request trailers ignored
{
  const grpcReq = (path: string, extra: [string, string][] = []) => block([POST, HTTP, [':path', path], ['content-type', 'application/grpc'], ['te', 'trailers'], ...extra]);
  cases.push(
    md(
      'gRPC: trailers-only UNIMPLEMENTED, a deadline exceeded (client RST_STREAM CANCEL after grpc-timeout), a cancel',
      'A trailers-only response carries grpc-status in its only HEADERS. A call reset by the client after its grpc-timeout has passed ended as DEADLINE_EXCEEDED (what the client reports); reset earlier, it is CANCELLED.',
      [
        req(cat([PREFACE, SETTINGS0, frame(1, 0x04, 1, grpcReq('/svc.A/Missing')), frame(0, 0x01, 1, grpcMsg('x'))]), 1000),
        resp(frame(1, 0x05, 1, block([S200, ['content-type', 'application/grpc'], ['grpc-status', '12'], ['grpc-message', 'unknown%20method']])), 2000),
        req(cat([frame(1, 0x04, 3, grpcReq('/svc.A/Slow', [['grpc-timeout', '100m']])), frame(0, 0x01, 3, grpcMsg('y'))]), 3000),
        req(frame(3, 0, 3, u32(8)), 200_003_000),
        req(cat([frame(1, 0x04, 5, grpcReq('/svc.A/Slow', [['grpc-timeout', '10S']])), frame(0, 0x01, 5, grpcMsg('z'))]), 200_004_000),
        req(frame(3, 0, 5, u32(8)), 200_005_000),
        { close: true },
      ],
      [
        { category: 'rpc', system: 'grpc', method: '/svc.A/Missing', statusCode: 12, statusMessage: 'unknown method', requestMessages: 1, responseMessages: 0, requestBodySize: 6, responseBodySize: 0, startNs: 1000, endNs: 2000 },
        { category: 'rpc', method: '/svc.A/Slow', statusCode: 4, requestMessages: 1, startNs: 3000, endNs: 200_003_000 },
        { category: 'rpc', method: '/svc.A/Slow', statusCode: 1, startNs: 200_004_000, endNs: 200_005_000 },
      ],
      { invalidFrames: 0 },
    ),
  );
}

// 4. h2c upgrade
{
  cases.push(
    md(
      'h2c by Upgrade: the HTTP/1.1 request is stream 1, answered in frames after 101',
      'RFC 7540 §3.2: the upgrade request becomes stream 1 (half-closed from the client); the client preface follows the 101.',
      [
        req(Buffer.from('GET /up?v=1 HTTP/1.1\r\nHost: h.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nUser-Agent: curl/7.88.1\r\n\r\n', 'latin1')),
        resp(cat([Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n', 'latin1'), SETTINGS0])),
        req(cat([PREFACE, SETTINGS0, SETTINGS_ACK])),
        resp(cat([SETTINGS_ACK, frame(1, 0x04, 1, block([S200, ['content-type', 'text/plain']])), frame(0, 0x01, 1, 'upgraded')])),
        req(frame(1, 0x05, 3, block([GET, HTTP, [':path', '/after'], [':authority', 'h.test']]))),
        resp(cat([frame(1, 0x05, 3, block([['#', 9]]))])),
        { close: true },
      ],
      [
        { category: 'http', method: 'GET', path: '/up', query: 'v=1', host: 'h.test', userAgent: 'curl/7.88.1', status: 200, responseBodySize: 8, startNs: 1000, endNs: 4000 },
        { category: 'http', method: 'GET', path: '/after', status: 204, startNs: 5000, endNs: 6000 },
      ],
      { invalidFrames: 0 },
    ),
  );
}

// 5. a large body past the capture, then trailers
{
  const body = grpcMsg('m'.repeat(16379)); // 16384 bytes: one full DATA frame
  const d1 = frame(0, 0, 1, body);
  cases.push(
    md(
      'gRPC: a 32 KiB response whose DATA is mostly not captured, trailers after it are decoded',
      'Each write carries one DATA frame whose first 64 bytes are captured (the rest is a gap); the frame lengths keep the parser in step, so the trailers that follow are read.',
      [
        req(cat([PREFACE, SETTINGS0, frame(1, 0x04, 1, block([POST, HTTP, [':path', '/svc.B/Big'], ['content-type', 'application/grpc']])), frame(0, 0x01, 1, grpcMsg(''))])),
        resp(cat([SETTINGS0, frame(1, 0x04, 1, block([S200, ['content-type', 'application/grpc']]))])),
        { dir: 'response', data: d1.subarray(0, 64), gap: d1.length - 64 },
        { dir: 'response', data: d1.subarray(0, 64), gap: d1.length - 64 },
        resp(frame(1, 0x05, 1, block([['grpc-status', '0']]))),
        { close: true },
      ],
      [{ category: 'rpc', method: '/svc.B/Big', statusCode: 0, requestMessages: 1, responseMessages: 2, requestBodySize: 5, responseBodySize: 32768, endNs: 5000, partial: null }],
      { invalidFrames: 0 },
    ),
  );
}

// 6. header block lost in a gap: the table is unknown; later references to it are not guessed
{
  const hb3 = frame(1, 0x05, 3, block([GET, HTTP, ['+:path', '/three'], ['+x-custom', 'v']]));
  cases.push(
    md(
      'a HEADERS frame not captured: its stream is lost, the table becomes unknown, old entries are not guessed, new ones are',
      'Stream 1 inserts `:path: /one`; stream 3\'s HEADERS is in a gap (its entries are unknown); stream 5 refers to index 63, which would be `/one` had stream 3 inserted nothing: not reported. Stream 7 sends its path as a literal: reported, marked truncated because its :authority was an unknown reference.',
      [
        req(cat([PREFACE, SETTINGS0, frame(1, 0x05, 1, block([GET, HTTP, ['+:path', '/one']]))])),
        resp(cat([SETTINGS0, frame(1, 0x05, 1, block([S200]))])),
        { dir: 'request', data: hb3.subarray(0, 9), gap: hb3.length - 9 },
        resp(frame(1, 0x05, 3, block([S200]))),
        req(frame(1, 0x05, 5, block([GET, HTTP, ['#', 63]]))),
        resp(frame(1, 0x05, 5, block([S200]))),
        req(frame(1, 0x05, 7, block([GET, HTTP, [':path', '/seven'], ['#', 64]]))),
        resp(frame(1, 0x05, 7, block([['#', 13]]))),
        { close: true },
      ],
      [
        { category: 'http', method: 'GET', path: '/one', status: 200, truncated: null },
        { category: 'http', method: 'GET', path: '/seven', status: 404, truncated: true },
      ],
      { invalidFrames: 0 },
    ),
  );
}

// 7. a connection opened before the agent
{
  cases.push(
    md(
      'a connection that predates the agent: no preface, tables unknown; static and literal fields decode, nothing is invented',
      'The first bytes seen are stream 41\'s HEADERS (its :path is an old dynamic entry: not reported) and the response to a stream begun before (ignored). Stream 43 inserts a literal path and is reported; stream 45 refers to that new entry and is complete.',
      [
        resp(frame(0, 0x01, 39, 'late body')),
        req(frame(1, 0x05, 41, block([GET, ['#', 62], ['#', 63]]))),
        resp(frame(1, 0x05, 41, block([S200]))),
        req(frame(1, 0x05, 43, block([POST, HTTP, ['+:path', '/fresh'], ['+:authority', 'svc.local']]))),
        resp(frame(1, 0x05, 43, block([['#', 14]]))),
        req(frame(1, 0x05, 45, block([POST, HTTP, ['#', 63], ['#', 62]]))),
        resp(frame(1, 0x05, 45, block([S200]))),
        { close: true },
      ],
      [
        { category: 'http', method: 'POST', path: '/fresh', host: 'svc.local', status: 500, truncated: null },
        { category: 'http', method: 'POST', path: '/fresh', host: 'svc.local', status: 200, truncated: null },
      ],
      { invalidFrames: 0 },
    ),
  );
}

// 8. bad input
{
  const oversize = frame(0, 0, 1, Buffer.alloc(20000));
  cases.push(
    md(
      'bad input: a frame over the maximum size, an HPACK index out of range, a stream id going backwards',
      'The oversized frame header is invalid (the session resynchronises at the next plausible frame); stream 3\'s block refers to index 200 of an empty table (an error: not reported, table unknown); stream 1 reappearing after 5 is a protocol error (ignored). Stream 5 still completes.',
      [
        req(cat([PREFACE, SETTINGS0])),
        resp(SETTINGS0),
        req(oversize.subarray(0, 9)),
        req(frame(1, 0x05, 3, Buffer.from([0x82, 0x86, 0xff, 0x49]))),
        resp(frame(1, 0x05, 3, block([S200]))),
        req(frame(1, 0x05, 5, block([GET, HTTP, [':path', '/five']]))),
        req(frame(1, 0x05, 1, block([GET, HTTP, [':path', '/back']]))),
        resp(frame(1, 0x05, 5, block([S200]))),
        resp(frame(1, 0x05, 1, block([S200]))),
        { close: true },
      ],
      [{ category: 'http', method: 'GET', path: '/five', status: 200 }],
    ),
  );
}

// 9. server push
{
  cases.push(
    md(
      'server push: PUSH_PROMISE keeps the response table in step; pushed streams are not reported',
      'The promise\'s header block inserts an entry the next response uses.',
      [
        req(cat([PREFACE, SETTINGS0, frame(1, 0x05, 1, block([GET, HTTP, [':path', '/page']]))])),
        resp(cat([SETTINGS0, frame(5, 0x04, 1, cat([u32(2), block([GET, HTTP, [':path', '/style.css'], ['+x-served-by', 'edge-1']])]))])),
        resp(cat([frame(1, 0x04, 2, block([S200])), frame(0, 0x01, 2, 'css'), frame(1, 0x04, 1, block([S200, ['#', 62]])), frame(0, 0x01, 1, '<html>')])),
        { close: true },
      ],
      [{ category: 'http', method: 'GET', path: '/page', status: 200, responseBodySize: 6 }],
      { invalidFrames: 0 },
    ),
  );
}

writeFileSync(new URL('../src/protocols/http2/fixtures/synthetic.md', import.meta.url), `# HTTP/2 frames and HPACK, case by case\n\nGenerated by scripts/gen-h2-synthetic.ts.\n\n${cases.join('')}`);
