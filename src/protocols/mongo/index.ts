/**
 * MongoDB wire protocol support (OP_MSG with document sequences, moreToCome and exhaust;
 * legacy OP_QUERY / OP_REPLY and the legacy write opcodes; OP_COMPRESSED with zlib, zstd and
 * snappy): `mongoParser` implements the shared ProtocolParser contract; `mongoQueryText`
 * gives `db.query.text`, the command with its values masked.
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor, ProtocolSettings } from '../common/descriptor.ts';
import { detectMongo, findMongoFrameBoundary } from './detect.ts';
import { newMongoState, parseMongoFrame } from './parse.ts';
import type { MongoState } from './parse.ts';
import { stitchMongo } from './stitch.ts';
import type { MongoOperation, MongoRequestFrame, MongoResponseFrame } from './types.ts';

export interface MongoParserOptions {
  /** `ebpf.mongo_requests_cache_size`: requests remembered per connection while waiting for replies (default 1024) */
  readonly requestsCacheSize?: number;
}

export function createMongoParser(opts: MongoParserOptions = {}): ProtocolParser<MongoRequestFrame, MongoResponseFrame, MongoOperation, MongoState> {
  const size = opts.requestsCacheSize !== undefined && opts.requestsCacheSize >= 1 ? opts.requestsCacheSize : 1024;
  return Object.freeze({
    newState: () => newMongoState(size),
    findFrameBoundary: findMongoFrameBoundary,
    parseFrame: parseMongoFrame as ProtocolParser<MongoRequestFrame, MongoResponseFrame, MongoOperation, MongoState>['parseFrame'],
    stitch: stitchMongo,
  });
}

export const mongoParser = createMongoParser();

/** `db.query.text` of a MongoDB command: `{"find":"users","filter":{"name":"?"}}` */
export function mongoQueryText(op: MongoOperation): string | undefined {
  return op.statement;
}

/** MongoDB (category `db`, instrumentation `mongo`, `db.system.name` mongodb). */
export const mongo: ProtocolDescriptor<MongoOperation> = Object.freeze({
  name: 'mongo',
  wire: 'mongodb',
  category: 'db',
  detect: detectMongo,
  createParser: (s?: ProtocolSettings) => createMongoParser({ requestsCacheSize: s?.mongo_requests_cache_size }),
  queryText: mongoQueryText,
});

export { detectMongo, findMongoFrameBoundary } from './detect.ts';
export { parseMongoFrame, newMongoState, MAX_KEEP } from './parse.ts';
export type { MongoState } from './parse.ts';
export { stitchMongo, HOUSEKEEPING_COMMANDS } from './stitch.ts';
export { readDocument } from './bson.ts';
export type { BsonDoc, BsonValue } from './bson.ts';
export { maskedStatement } from './wire.ts';
export type { MongoFrame, MongoOperation, MongoRequestFrame, MongoResponseFrame } from './types.ts';
