/**
 * Reading one DNS message from its captured bytes: the header, the first question, and the
 * end of the message (walking every resource record, names with compression pointers), all
 * bounded; a message whose bytes were not all captured ends where the capture does.
 */

export const HEADER_LEN = 12;
/** resource records walked per message at most */
const MAX_RRS = 256;
/** labels of one name at most (a name is at most 255 bytes) */
const MAX_LABELS = 128;

export interface DnsHeader {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly tc: boolean;
  readonly rcode: number;
  readonly qdcount: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
}

export function readHeader(b: Buffer, off = 0): DnsHeader {
  const flags = b.readUInt16BE(off + 2);
  return {
    id: b.readUInt16BE(off),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    tc: (flags & 0x0200) !== 0,
    rcode: flags & 0xf,
    qdcount: b.readUInt16BE(off + 4),
    ancount: b.readUInt16BE(off + 6),
    nscount: b.readUInt16BE(off + 8),
    arcount: b.readUInt16BE(off + 10),
  };
}

/**
 * Skip the name at `off` in `b` (message starting at `base`); returns the offset after it, or -1
 * when it is malformed or runs past the bytes. With `labels`, the labels are collected (following
 * compression pointers backwards only).
 */
export function readName(b: Buffer, base: number, off: number, labels?: string[]): number {
  let p = off;
  let end = -1; // offset after the name in the message (set at the first pointer)
  let jumps = 0;
  for (let n = 0; n < MAX_LABELS; n++) {
    if (p >= b.length) return -1;
    const len = b[p];
    if (len === 0) return end >= 0 ? end : p + 1;
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= b.length) return -1;
      const target = base + (((len & 0x3f) << 8) | b[p + 1]);
      if (end < 0) end = p + 2;
      if (labels === undefined) return end; // the rest of the name is elsewhere
      if (target >= p || ++jumps > 16) return -1; // pointers only point backwards
      p = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return -1; // extended label types are obsolete
    if (p + 1 + len > b.length) return -1;
    labels?.push(b.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return -1;
}

export interface ParsedMessage {
  readonly header: DnsHeader;
  readonly name?: string;
  readonly qtype?: number;
  /** offset after the message in `b`, or -1 when its end is not in `b` */
  readonly end: number;
}

/** Parse the message starting at `base` (header included). */
export function parseMessage(b: Buffer, base: number): ParsedMessage | undefined {
  if (b.length - base < HEADER_LEN) return undefined;
  const header = readHeader(b, base);
  let p = base + HEADER_LEN;
  let name: string | undefined;
  let qtype: number | undefined;
  for (let i = 0; i < header.qdcount; i++) {
    const labels: string[] = [];
    const e = readName(b, base, p, i === 0 ? labels : undefined);
    if (e < 0 || e + 4 > b.length) return { header, name: i === 0 && labels.length > 0 ? labels.join('.') : name, qtype, end: -1 };
    if (i === 0) {
      name = labels.join('.');
      qtype = b.readUInt16BE(e);
    }
    p = e + 4;
    if (i >= MAX_RRS) return { header, name, qtype, end: -1 };
  }
  const rrs = header.ancount + header.nscount + header.arcount;
  if (rrs > MAX_RRS) return { header, name, qtype, end: -1 };
  for (let i = 0; i < rrs; i++) {
    const e = readName(b, base, p);
    if (e < 0 || e + 10 > b.length) return { header, name, qtype, end: -1 };
    const rdlen = b.readUInt16BE(e + 8);
    p = e + 10 + rdlen;
    if (p > b.length) return { header, name, qtype, end: -1 };
  }
  return { header, name, qtype, end: p };
}

const TYPES: Readonly<Record<number, string>> = Object.freeze({
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR',
  39: 'DNAME', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
});

/** the mnemonic of a query type (`A`, `AAAA`), else `TYPE<n>` (RFC 3597) */
export function typeName(t: number): string {
  return TYPES[t] ?? `TYPE${t}`;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/** the mnemonic of a response code (`NXDOMAIN`), else `RCODE<n>` */
export function rcodeName(r: number): string {
  return RCODES[r] ?? `RCODE${r}`;
}
