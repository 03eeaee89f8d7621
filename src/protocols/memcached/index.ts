/**
 * Memcached (text and binary protocols) support: `memcachedParser` implements the shared
 * ProtocolParser contract; `memcachedQueryText` builds `db.query.text` (command and keys).
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor } from '../common/descriptor.ts';
import { detectMemcached, findMcFrameBoundary } from './detect.ts';
import { newMcState, parseMcFrame } from './parse.ts';
import type { McState } from './parse.ts';
import { stitchMc } from './stitch.ts';
import type { McOperation, McRequestFrame, McResponseFrame } from './types.ts';

export const memcachedParser: ProtocolParser<McRequestFrame, McResponseFrame, McOperation, McState> = Object.freeze({
  newState: newMcState,
  findFrameBoundary: findMcFrameBoundary,
  parseFrame: parseMcFrame,
  stitch: stitchMc,
});

/** `db.query.text` of a Memcached operation: the command and its keys (values are never captured into it). */
export function memcachedQueryText(op: McOperation): string | undefined {
  if (op.operation === undefined) return undefined;
  if (op.keys.length === 0) return op.operation;
  const more = op.keyCount > op.keys.length ? ' ...' : '';
  return `${op.operation} ${op.keys.join(' ')}${more}`;
}


/** Memcached, text and binary protocols (category `db`). */
export const memcached: ProtocolDescriptor<McOperation> = Object.freeze({
  name: 'memcached',
  wire: 'memcached',
  category: 'db',
  detect: detectMemcached,
  createParser: () => memcachedParser,
  queryText: memcachedQueryText,
});

export { detectMemcached, findMcFrameBoundary } from './detect.ts';
export { parseMcFrame, newMcState, binaryErrorType, BINARY_OPCODES, TEXT_COMMANDS, MAX_LINE } from './parse.ts';
export type { McState } from './parse.ts';
export { stitchMc } from './stitch.ts';
export { MAX_KEYS } from './types.ts';
export type { McFrame, McOperation, McRequestFrame, McResponseFrame } from './types.ts';
