/** The ingest counters as the obi_ingest_* and obi_parser_* self-metrics read them at scrape time. */
import type { ConnectionTracker } from '../ingest/connections.ts';
import type { DecodeStats } from '../ingest/decode.ts';
import type { IngestSnapshot } from '../telemetry/internal.ts';

export function ingestSnapshot(tracker: ConnectionTracker, decode: DecodeStats): IngestSnapshot {
  const k = tracker.counters;
  return {
    malformedRecords: decode.malformed,
    connectionsOpened: k.connectionsOpened,
    connectionsEvicted: k.connectionsEvicted,
    connectionsExpired: k.connectionsExpired,
    connectionsUnrecognized: k.ignoredConnections,
    connectionsActive: tracker.size,
    tlsSegments: { ciphertext_ignored: k.tlsRawSegments, paired_late: k.tlsPairedLate, unpaired_dropped: k.tlsUnpairedDropped, late: k.tlsLate },
    parsers: tracker.parserCounters(),
  };
}

/**
 * The snapshot, taken at most once per `maxAgeMs`: the ingest families of one scrape share it
 * (the parser counters walk every live connection).
 */
export function cachedIngestSnapshot(tracker: ConnectionTracker, decode: DecodeStats, maxAgeMs = 100): () => IngestSnapshot {
  let at = -Infinity;
  let snap: IngestSnapshot | undefined;
  return () => {
    const now = performance.now();
    if (snap === undefined || now - at > maxAgeMs) {
      snap = ingestSnapshot(tracker, decode);
      at = now;
    }
    return snap;
  };
}
