/**
 * Building DNS messages (RFC 1035 §4.1) for the parser's tests (src/protocols/dns/*.test.ts).
 */
export function name(n: string): Buffer {
  return Buffer.concat([...n.split('.').filter((l) => l.length > 0).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

/** a query (QR 0, RD 1) with one question */
export function query(id: number, qname: string, qtype: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(qtype, 0);
  q.writeUInt16BE(1, 2);
  return Buffer.concat([h, name(qname), q]);
}

/** a response with `answers` A records (names as compression pointers to the question) */
export function response(id: number, qname: string, qtype: number, rcode: number, answers: number, tc = false): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x8180 | (tc ? 0x0200 : 0) | rcode, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(answers, 6);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(qtype, 0);
  q.writeUInt16BE(1, 2);
  const rrs: Buffer[] = [];
  for (let i = 0; i < answers; i++) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    rr.writeUInt32BE(0x0a000001 + i, 12);
    rrs.push(rr);
  }
  return Buffer.concat([h, name(qname), q, ...rrs]);
}

/** the same message framed for TCP (two-byte length) */
export function tcp(msg: Buffer): Buffer {
  const l = Buffer.alloc(2);
  l.writeUInt16BE(msg.length, 0);
  return Buffer.concat([l, msg]);
}
