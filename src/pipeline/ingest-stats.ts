/** The ingest counters as the obi_ingest_* and obi_parser_* self-metrics read them at scrape time. */
import type { ConnectionTracker } from '../ingest/connections.ts';
import type { DecodeStats } from '../ingest/decode.ts';
import type { IngestSnapshot } from '../telemetry/internal.ts';

export function ingestSnapshot(tracker: ConnectionTracker, decode: DecodeStats, extract?: ReadonlyMap<string, number>): IngestSnapshot {
  const k = tracker.counters;
  let parsers = tracker.parserCounters();
  if (extract !== undefined && extract.size > 0) {
    // HTTP payload extractors' exceptions, as parser exceptions under the extractor's name
    const all = new Map(parsers);
    for (const [name, n] of extract) all.set(name, { invalidFrames: 0, droppedBytes: 0, unpairedFrames: 0, droppedFrames: 0, partialFrames: 0, parserErrors: n, unsupportedVersions: 0 });
    parsers = all;
  }
  return {
    malformedRecords: decode.malformed,
    connectionsOpened: k.connectionsOpened,
    connectionsEvicted: k.connectionsEvicted,
    connectionsExpired: k.connectionsExpired,
    connectionsUnrecognized: k.ignoredConnections,
    connectionsMuted: k.mutedConnections,
    connectionsActive: tracker.size,
    tlsSegments: { ciphertext_ignored: k.tlsRawSegments, paired_late: k.tlsPairedLate, unpaired_dropped: k.tlsUnpairedDropped, late: k.tlsLate },
    parsers,
  };
}

/**
 * The snapshot, taken at most once per `maxAgeMs`: the ingest families of one scrape share it
 * (the parser counters walk every live connection).
 */
export function cachedIngestSnapshot(tracker: ConnectionTracker, decode: DecodeStats, maxAgeMs = 100, extract?: ReadonlyMap<string, number>): () => IngestSnapshot {
  let at = -Infinity;
  let snap: IngestSnapshot | undefined;
  return () => {
    const now = performance.now();
    if (snap === undefined || now - at > maxAgeMs) {
      snap = ingestSnapshot(tracker, decode, extract);
      at = now;
    }
    return snap;
  };
}
