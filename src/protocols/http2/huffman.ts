/**
 * HPACK Huffman decoding (RFC 7541 §5.2, Appendix B).
 *
 * The code of Appendix B is canonical: codes are assigned in order of (length, symbol). So the
 * table is its 257 code lengths (below, from Appendix B); the codes follow from them, and
 * huffman.test.ts checks codes against the RFC's values and the Appendix C examples.
 *
 * Decoding walks a table of 4-bit steps built once at load: state = node of the code tree,
 * each input nibble moves to the next node and may emit one symbol. A string is invalid
 * (RFC 7541 §5.2) when it holds EOS, or ends in padding longer than 7 bits or not all ones.
 */

/** Appendix B code lengths, by symbol 0..256 (256 = EOS). */
// prettier-ignore
const LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //   0-15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //  16-31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,         //  32-47  ' ' .. '/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,              //  48-63  '0' .. '?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,                //  64-79  '@' .. 'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,             //  80-95  'P' .. '_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,                //  96-111 '`' .. 'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,            // 112-127 'p' .. DEL
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128-143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144-159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160-175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176-191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192-207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208-223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224-239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240-255
  30,                                                             // 256 EOS
];

export const EOS = 256;

/** The canonical codes (MSB-first, right-aligned in `length` bits) derived from LENGTHS. */
export function huffmanCodes(): { codes: number[]; lengths: readonly number[] } {
  const order = LENGTHS.map((len, sym) => ({ len, sym })).sort((a, b) => a.len - b.len || a.sym - b.sym);
  const codes = new Array<number>(LENGTHS.length).fill(0);
  let code = 0;
  let prevLen = order[0].len;
  for (let i = 0; i < order.length; i++) {
    const { len, sym } = order[i];
    if (i > 0) {
      code = (code + 1) * 2 ** (len - prevLen);
    }
    prevLen = len;
    codes[sym] = code;
  }
  return { codes, lengths: LENGTHS };
}

// ---- the nibble automaton -----------------------------------------------------------------
// Tree nodes: children[node*2 + bit] = child (>0) or ~symbol (<0, a leaf); node 0 is the root.
// Step table per (node, nibble): next node, symbol emitted (or -1), flags.
const F_EMIT = 1;
const F_FAIL = 2; // EOS reached inside the string

interface Automaton {
  readonly next: Uint16Array;
  readonly sym: Uint16Array;
  readonly flags: Uint8Array;
  /** per node: 1 when reached from the root by 1-bits only and at most 7 deep (valid final padding) */
  readonly padOk: Uint8Array;
}

function build(): Automaton {
  const { codes } = huffmanCodes();
  const children: number[] = [0, 0];
  let nodes = 1;
  for (let sym = 0; sym < LENGTHS.length; sym++) {
    const len = LENGTHS[sym];
    let node = 0;
    for (let b = len - 1; b >= 0; b--) {
      const bit = Math.floor(codes[sym] / 2 ** b) & 1;
      const slot = node * 2 + bit;
      if (b === 0) {
        children[slot] = ~sym;
      } else {
        if (children[slot] === 0) {
          children[slot] = nodes++;
          children.push(0, 0);
        }
        node = children[slot];
      }
    }
  }
  // a node is "all ones" from the root when reached by 1-bits only: the rightmost spine
  const padOk = new Uint8Array(nodes);
  padOk[0] = 1;
  for (let c = children[1], depth = 1; c > 0 && depth <= 7; c = children[c * 2 + 1], depth++) padOk[c] = 1;
  const next = new Uint16Array(nodes * 16);
  const sym = new Uint16Array(nodes * 16);
  const flags = new Uint8Array(nodes * 16);
  for (let n = 0; n < nodes; n++) {
    for (let nib = 0; nib < 16; nib++) {
      let node = n;
      let f = 0;
      let out = 0;
      for (let b = 3; b >= 0; b--) {
        const c = children[node * 2 + ((nib >> b) & 1)];
        if (c < 0) {
          const s = ~c;
          if (s === EOS) {
            f |= F_FAIL;
            node = 0;
            break;
          }
          if ((f & F_EMIT) !== 0) {
            // two symbols in one nibble is impossible: every code is >= 5 bits
            f |= F_FAIL;
          }
          f |= F_EMIT;
          out = s;
          node = 0;
        } else {
          node = c;
        }
      }
      const i = n * 16 + nib;
      next[i] = node;
      sym[i] = out;
      flags[i] = f;
    }
  }
  return { next, sym, flags, padOk };
}

let automaton: Automaton | undefined;

/**
 * Decode `src[start, end)`; undefined when the string is not valid Huffman (EOS inside, padding
 * over 7 bits or not ones) or would exceed `maxLen` decoded bytes.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, maxLen: number): string | undefined {
  const a = (automaton ??= build());
  // every symbol takes >= 5 bits: the output is at most 8/5 of the input
  const out = Buffer.allocUnsafe(Math.min(maxLen, Math.ceil(((end - start) * 8) / 5)));
  let n = 0;
  let node = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i];
    for (let h = 0; h < 2; h++) {
      const k = node * 16 + (h === 0 ? byte >> 4 : byte & 15);
      const f = a.flags[k];
      if ((f & F_FAIL) !== 0) return undefined;
      if ((f & F_EMIT) !== 0) {
        if (n >= out.length) return undefined;
        out[n++] = a.sym[k];
      }
      node = a.next[k];
    }
  }
  // padding: the bits after the last symbol, at most 7, all ones
  if (a.padOk[node] !== 1) return undefined;
  return out.toString('latin1', 0, n);
}
