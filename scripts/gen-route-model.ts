/**
 * Generates src/telemetry/routes/model.json, the character-bigram "gibberish" model used by the
 * `routes.unmatched: heuristic` route decorator (src/telemetry/routes/heuristic.ts).
 *
 *   node scripts/gen-route-model.ts [words-file] [out-file]
 *   (defaults: /usr/share/dict/words — Debian package wamerican — and src/telemetry/routes/model.json)
 *
 * Method (deterministic: same word list ⇒ byte-identical output):
 * 1. Training set: every line of the word list that is only ASCII letters, lower-cased, de-duplicated
 *    and sorted (lines with apostrophes, digits or accents are skipped).
 * 2. Transition counts over `^a…z` (index 0 = word boundary: start as a row, end as a column),
 *    add-one (Laplace) smoothing per row, natural log, rounded to 3 decimals → 27×27 `logProb`.
 *    Every later score uses the rounded table, exactly as the runtime does.
 * 3. Thresholds, one per piece length L from MIN_SCORED_LENGTH to MAX_THRESHOLD_LENGTH (the last
 *    one also serves longer pieces): the scores of all real words of length L (≥ L for the last)
 *    are set against the scores of RANDOM_PER_LENGTH uniformly random a–z strings of the same
 *    length drawn from a fixed-seed PRNG (mulberry32). The threshold is the midpoint between two
 *    adjacent observed scores that minimises 2 × (words flagged / words) + (random kept / random)
 *    (see WORD_ERROR_WEIGHT); ties go to the lowest threshold (fewer real words wildcarded).
 *    The chosen error rates are written into the file as `stats` for review.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileModel, scorePiece, MODEL_ALPHABET, MODEL_SIZE } from '../src/telemetry/routes/gibberish.ts';
import type { RouteModelJson } from '../src/telemetry/routes/gibberish.ts';

export const DEFAULT_WORDS_FILE = '/usr/share/dict/words';
export const DEFAULT_OUT_FILE = fileURLToPath(new URL('../src/telemetry/routes/model.json', import.meta.url));

/** pieces shorter than this are never scored: too few bigrams to tell words from noise */
export const MIN_SCORED_LENGTH = 4;
/** lengths ≥ this share one threshold */
export const MAX_THRESHOLD_LENGTH = 12;
const RANDOM_PER_LENGTH = 20_000;
const SEED = 0x0b1_75;
/**
 * A wildcarded real word (`/api/video` → `/api/*`) is the error users see; a random token kept
 * costs one extra series. Flagging a word therefore counts twice as much as keeping a random string.
 */
const WORD_ERROR_WEIGHT = 2;

/** Lower-cased, de-duplicated, sorted letter-only words of a word list. */
export function trainingWords(wordsText: string): string[] {
  const set = new Set<string>();
  let start = 0;
  const n = wordsText.length;
  while (start < n) {
    let end = wordsText.indexOf('\n', start);
    if (end < 0) end = n;
    const w = wordsText.slice(start, end).trim().toLowerCase();
    start = end + 1;
    if (w.length > 0 && /^[a-z]+$/.test(w)) set.add(w);
  }
  return [...set].sort();
}

function round3(x: number): number {
  const r = Math.round(x * 1000) / 1000;
  return r === 0 ? 0 : r; // no -0 in the JSON
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ThresholdChoice {
  threshold: number;
  wordsFlagged: number;
  randomKept: number;
}

/** Threshold minimising the balanced error between word scores (should be ≥) and random ones (<). */
function chooseThreshold(wordScores: Float64Array, randomScores: Float64Array): ThresholdChoice {
  const w = Float64Array.from(wordScores).sort();
  const r = Float64Array.from(randomScores).sort();
  // candidate thresholds: midpoints between adjacent distinct values of the merged score list
  const all = new Float64Array(w.length + r.length);
  all.set(w);
  all.set(r, w.length);
  all.sort();
  let best: ThresholdChoice = { threshold: all[0], wordsFlagged: 0, randomKept: 1 };
  let bestErr = Infinity;
  let iw = 0;
  let ir = 0;
  for (let k = 0; k + 1 < all.length; k++) {
    if (all[k] === all[k + 1]) continue;
    const t = round3((all[k] + all[k + 1]) / 2);
    while (iw < w.length && w[iw] < t) iw++; // words below t are flagged
    while (ir < r.length && r[ir] < t) ir++; // random below t are caught
    const fw = iw / w.length;
    const kr = (r.length - ir) / r.length;
    const err = WORD_ERROR_WEIGHT * fw + kr;
    if (err < bestErr) {
      bestErr = err;
      best = { threshold: t, wordsFlagged: fw, randomKept: kr };
    }
  }
  return best;
}

export interface GeneratedRouteModel extends RouteModelJson {
  readonly stats: {
    readonly trainingWords: number;
    readonly randomPerLength: number;
    /** per threshold: share of real words flagged, share of random strings kept (rounded to 3 decimals) */
    readonly wordsFlagged: readonly number[];
    readonly randomKept: readonly number[];
  };
}

/** Builds the model from the text of a word list (one word a line). Pure and deterministic. */
export function buildRouteModel(wordsText: string): GeneratedRouteModel {
  const words = trainingWords(wordsText);
  if (words.length < 1000) throw new Error(`word list too small (${words.length} usable words)`);

  const counts: Float64Array[] = [];
  for (let i = 0; i < MODEL_SIZE; i++) counts.push(new Float64Array(MODEL_SIZE));
  for (const word of words) {
    let prev = 0;
    for (let i = 0; i < word.length; i++) {
      const cur = word.charCodeAt(i) - 96;
      counts[prev][cur]++;
      prev = cur;
    }
    counts[prev][0]++;
  }
  const logProb: number[][] = counts.map((row) => {
    let total = 0;
    for (const c of row) total += c + 1;
    return Array.from(row, (c) => round3(Math.log((c + 1) / total)));
  });

  const model = compileModel({ version: 1, alphabet: MODEL_ALPHABET, minScoredLength: MIN_SCORED_LENGTH, thresholds: [-1], logProb });
  const rand = mulberry32(SEED);
  const thresholds: number[] = [];
  const wordsFlagged: number[] = [];
  const randomKept: number[] = [];
  for (let len = MIN_SCORED_LENGTH; len <= MAX_THRESHOLD_LENGTH; len++) {
    const last = len === MAX_THRESHOLD_LENGTH;
    const ws: number[] = [];
    for (const word of words) {
      if (word.length === len || (last && word.length > len)) ws.push(scorePiece(model, word, 0, word.length));
    }
    const rs = new Float64Array(RANDOM_PER_LENGTH);
    const buf = new Array<string>(len);
    for (let k = 0; k < RANDOM_PER_LENGTH; k++) {
      for (let i = 0; i < len; i++) buf[i] = MODEL_ALPHABET[1 + Math.floor(rand() * 26)];
      rs[k] = scorePiece(model, buf.join(''), 0, len);
    }
    const choice = chooseThreshold(Float64Array.from(ws), rs);
    thresholds.push(choice.threshold);
    wordsFlagged.push(round3(choice.wordsFlagged));
    randomKept.push(round3(choice.randomKept));
  }

  return {
    version: 1,
    alphabet: MODEL_ALPHABET,
    minScoredLength: MIN_SCORED_LENGTH,
    thresholds,
    logProb,
    stats: { trainingWords: words.length, randomPerLength: RANDOM_PER_LENGTH, wordsFlagged, randomKept },
  };
}

/** The file's text: one table row a line so diffs stay readable. */
export function serializeRouteModel(m: GeneratedRouteModel): string {
  const rows = m.logProb.map((row) => `    ${JSON.stringify(row)}`).join(',\n');
  return (
    '{\n' +
    `  "version": ${m.version},\n` +
    `  "alphabet": ${JSON.stringify(m.alphabet)},\n` +
    `  "minScoredLength": ${m.minScoredLength},\n` +
    `  "thresholds": ${JSON.stringify(m.thresholds)},\n` +
    `  "stats": ${JSON.stringify(m.stats)},\n` +
    `  "logProb": [\n${rows}\n  ]\n` +
    '}\n'
  );
}

if (import.meta.main) {
  const wordsFile = process.argv[2] ?? DEFAULT_WORDS_FILE;
  const outFile = process.argv[3] ?? DEFAULT_OUT_FILE;
  const model = buildRouteModel(readFileSync(wordsFile, 'utf8'));
  writeFileSync(outFile, serializeRouteModel(model));
  process.stdout.write(`wrote ${outFile}: ${model.stats.trainingWords} words, thresholds ${JSON.stringify(model.thresholds)}\n`);
}
