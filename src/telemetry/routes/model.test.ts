import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { buildRouteModel, serializeRouteModel, trainingWords, DEFAULT_WORDS_FILE, DEFAULT_OUT_FILE, MIN_SCORED_LENGTH, MAX_THRESHOLD_LENGTH } from '../../../scripts/gen-route-model.ts';
import { compileModel, scorePiece, isGibberish, MODEL_ALPHABET } from './gibberish.ts';
import type { RouteModelJson } from './gibberish.ts';
import { DEFAULT_ROUTE_MODEL } from './heuristic.ts';

const committedText = readFileSync(new URL('./model.json', import.meta.url), 'utf8');
const committed = JSON.parse(committedText) as RouteModelJson & { stats: { trainingWords: number } };

test('model.json: committed file equals a fresh generation from the word list', () => {
  // the word list comes with the test dependencies (make test-deps), like every server the tests use
  assert.ok(existsSync(DEFAULT_WORDS_FILE), `${DEFAULT_WORDS_FILE} is absent: install Debian's wamerican (make test-deps)`);
  const fresh = serializeRouteModel(buildRouteModel(readFileSync(DEFAULT_WORDS_FILE, 'utf8')));
  assert.equal(fresh, committedText, `regenerate with: node scripts/gen-route-model.ts (writes ${DEFAULT_OUT_FILE})`);
});

test('model.json: shape and size', () => {
  assert.equal(committed.version, 1);
  assert.equal(committed.alphabet, MODEL_ALPHABET);
  assert.equal(committed.minScoredLength, MIN_SCORED_LENGTH);
  assert.equal(committed.thresholds.length, MAX_THRESHOLD_LENGTH - MIN_SCORED_LENGTH + 1);
  assert.equal(committed.logProb.length, 27);
  for (const row of committed.logProb) {
    assert.equal(row.length, 27);
    // every row is a probability distribution (up to 3-decimal rounding)
    const sum = row.reduce((a, v) => a + Math.exp(v), 0);
    assert.equal(Math.abs(sum - 1) < 0.02, true, `row sums to ${sum}`);
    for (const v of row) assert.equal(Math.round(v * 1000) / 1000, v);
  }
  assert.equal(committedText.length < 8000, true, `model.json is ${committedText.length} bytes`);
});

test('trainingWords: letters only, lower-cased, de-duplicated, sorted', () => {
  assert.deepEqual(trainingWords("Zebra\napple\nApple\nit's\nx2\n\ncafé\n  pear \n"), ['apple', 'pear', 'zebra']);
});

test('buildRouteModel: deterministic and rejects tiny lists', () => {
  assert.throws(() => buildRouteModel('a\nb\n'), /word list too small \(2 usable words\)/);
  // a synthetic list of 1200 "words" built from two syllables: its bigrams are the only likely ones
  const syl = ['ba', 'na', 'ta', 'ka', 'ma', 'la'];
  const words: string[] = [];
  for (const a of syl) for (const b of syl) for (const c of syl) for (const d of syl) words.push(a + b + c + d);
  const text = words.join('\n');
  const m1 = serializeRouteModel(buildRouteModel(text));
  const m2 = serializeRouteModel(buildRouteModel(text));
  assert.equal(m1, m2);
  const model = compileModel(JSON.parse(m1) as RouteModelJson);
  assert.equal(isGibberish(model, 'banatala', 0, 8), false);
  assert.equal(isGibberish(model, 'qzxwvjrp', 0, 8), true);
});

test('scorePiece: mean of boundary-inclusive bigram log-probabilities, case-insensitive', () => {
  const logProb = Array.from({ length: 27 }, (_, r) => Array.from({ length: 27 }, (_, c) => -(r * 27 + c) / 1000));
  const m = compileModel({ version: 1, alphabet: MODEL_ALPHABET, minScoredLength: 2, thresholds: [-0.1, -0.2], logProb });
  // "ab": ^a = -(0*27+1)/1000, ab = -(1*27+2)/1000, b$ = -(2*27+0)/1000
  assert.equal(scorePiece(m, 'xaby', 1, 3), (-0.001 - 0.029 - 0.054) / 3);
  assert.equal(scorePiece(m, 'AB', 0, 2), (-0.001 - 0.029 - 0.054) / 3);
  assert.equal(isGibberish(m, 'a', 0, 1), false); // shorter than minScoredLength
  assert.equal(isGibberish(m, 'ab', 0, 2), false); // -0.028 >= -0.1
  // "zzz": ^z -0.026, zz -0.728, zz -0.728, z$ -0.702 → mean -0.546 < -0.2 (last threshold serves longer)
  assert.equal(isGibberish(m, 'zzz', 0, 3), true);
});

test('compileModel: rejects malformed models', () => {
  const good = committed as RouteModelJson;
  assert.throws(() => compileModel({ ...good, alphabet: 'abc' }), /unknown version or alphabet/);
  assert.throws(() => compileModel({ ...good, logProb: good.logProb.slice(1) }), /logProb must be 27×27/);
  assert.throws(() => compileModel({ ...good, logProb: good.logProb.map((r, i) => (i === 3 ? r.slice(1) : r)) }), /row 3 must have 27 entries/);
  assert.throws(() => compileModel({ ...good, logProb: good.logProb.map((r, i) => (i === 2 ? r.map(() => 0.5) : r)) }), /bad log-probability at \[2\]\[0\]/);
  assert.throws(() => compileModel({ ...good, thresholds: [] }), /thresholds must be a non-empty array/);
  assert.throws(() => compileModel({ ...good, thresholds: [-1, Number.NaN] }), /bad threshold 1/);
  assert.throws(() => compileModel({ ...good, minScoredLength: 0 }), /bad minScoredLength/);
});

test('default model: separates words from random letters on sample pieces', () => {
  for (const w of ['users', 'products', 'profile', 'metrics', 'health', 'hello', 'world', 'orders', 'checkout']) {
    assert.equal(isGibberish(DEFAULT_ROUTE_MODEL, w, 0, w.length), false, w);
  }
  for (const g of ['fdklsd', 'qwzxkj', 'xkcdqwzzp', 'hjkdfgsl', 'zzqpwx']) {
    assert.equal(isGibberish(DEFAULT_ROUTE_MODEL, g, 0, g.length), true, g);
  }
});
