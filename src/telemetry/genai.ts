/**
 * GenAI client metrics (OBI names; docs/reference/metrics.md): `gen_ai.client.operation.duration`
 * (s) and `gen_ai.client.token.usage` ({token}, one observation per token type), recorded from the
 * client spans the GenAI extractor made (category `genai`; protocols/genai/). OBI's buckets:
 * durations 0.01 s doubling to 81.92 s, tokens powers of 4 from 1 to 67108864.
 */
import { ATTR_ERROR_TYPE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SERVICE_NAME, ATTR_SERVICE_NAMESPACE } from '@opentelemetry/semantic-conventions';
import { HistogramVec, SeriesIndex } from './histogram.ts';
import type { LabelValue } from './histogram.ts';
import { ATTR_INSTANCE, ATTR_JOB, promLabelName, spanAttributeGetter } from './metrics.ts';
import type { Span } from './span.ts';
import type { MetricStore } from './store.ts';

export const GENAI_DURATION_NAME = 'gen_ai.client.operation.duration';
export const GENAI_TOKENS_NAME = 'gen_ai.client.token.usage';
export const GENAI_DURATION_BUCKETS: readonly number[] = Array.from({ length: 14 }, (_, i) => Math.round(0.01 * 2 ** i * 100) / 100);
export const GENAI_TOKEN_BUCKETS: readonly number[] = Array.from({ length: 14 }, (_, i) => 4 ** i);

/** label attributes of both families (service labels as every application metric, then OBI's gen_ai ones) */
export const GENAI_METRIC_ATTRIBUTES: readonly string[] = [
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_NAMESPACE,
  ATTR_JOB,
  ATTR_INSTANCE,
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.request.model',
  'gen_ai.response.model',
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_ERROR_TYPE,
];

const isGenaiClient = (s: Span): boolean => s.kind === 'client' && s.category === 'genai';

export class GenaiHistogram {
  readonly histogram: HistogramVec;
  private readonly _index: SeriesIndex;
  private readonly _getters: ((s: Span) => LabelValue)[];
  private readonly _scratch: LabelValue[];
  private readonly _tokens: boolean;

  constructor(store: MetricStore, tokens: boolean) {
    const attrs = tokens ? [...GENAI_METRIC_ATTRIBUTES, 'gen_ai.token.type'] : [...GENAI_METRIC_ATTRIBUTES];
    this._tokens = tokens;
    this._index = new SeriesIndex(attrs.length);
    this._getters = attrs.map(spanAttributeGetter);
    this._scratch = new Array<LabelValue>(attrs.length).fill('');
    this.histogram = new HistogramVec({
      name: tokens ? GENAI_TOKENS_NAME : GENAI_DURATION_NAME,
      unit: tokens ? '{token}' : 's',
      ...(tokens ? { promName: 'gen_ai_client_token_usage' } : {}),
      help: tokens ? 'Tokens used by GenAI client calls, by token type (input, output)' : 'Duration of GenAI client operations',
      labelNames: attrs.map(promLabelName),
      attributes: attrs,
      buckets: tokens ? GENAI_TOKEN_BUCKETS : GENAI_DURATION_BUCKETS,
      index: this._index,
    }).registerIn(store);
  }

  record(span: Span): void {
    if (!isGenaiClient(span)) return;
    const g = this._getters;
    const v = this._scratch;
    const n = this._tokens ? g.length - 1 : g.length;
    for (let i = 0; i < n; i++) v[i] = g[i](span);
    if (!this._tokens) {
      const d = span.endNs - span.startNs;
      this.histogram.observe(this._index.id(v), d > 0 ? d / 1e9 : 0);
      return;
    }
    for (const [type, attr] of [['input', 'gen_ai.usage.input_tokens'], ['output', 'gen_ai.usage.output_tokens']] as const) {
      const t = span.attributes[attr];
      if (typeof t !== 'number') continue;
      v[n] = type;
      this.histogram.observe(this._index.id(v), t);
    }
  }

  recordAll(spans: readonly Span[]): void {
    for (let i = 0; i < spans.length; i++) this.record(spans[i]);
  }
}

/** The two GenAI families, as span recorders of the processor (`histogram`: the family, for exporters). */
export interface GenaiMetrics {
  readonly duration: GenaiHistogram;
  readonly tokens: GenaiHistogram;
}

/** The two GenAI families, as span recorders of the processor. */
export function createGenaiMetrics(store: MetricStore): GenaiMetrics {
  return { duration: new GenaiHistogram(store, false), tokens: new GenaiHistogram(store, true) };
}
