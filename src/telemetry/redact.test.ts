import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createQueryRedactor, DEFAULT_SENSITIVE_QUERY_PARAMS, DEFAULT_SENSITIVE_WORDS, keyWords, sensitiveQueryParams } from './redact.ts';

test('redactor: OBI scrubQuery cases', () => {
  const r = createQueryRedactor(['sig', 'token', 'AWSAccessKeyId']);
  const cases: [string, string][] = [
    ['cmd=OBIWANKENOBI&sig=abc123', 'cmd=OBIWANKENOBI&sig=REDACTED'],
    ['cmd=OBIWANKENOBI&page=1', 'cmd=OBIWANKENOBI&page=1'],
    ['q=hello&token=secret&AWSAccessKeyId=AKID&page=2', 'q=hello&token=REDACTED&AWSAccessKeyId=REDACTED&page=2'],
    ['SIG=abc123&cmd=test', 'SIG=REDACTED&cmd=test'],
    ['', ''],
    ['flag&cmd=test', 'flag&cmd=test'],
    ['z=1&a=2&sig=secret&m=3', 'z=1&a=2&sig=REDACTED&m=3'],
    // edge cases of the split
    ['token=', 'token=REDACTED'],
    ['token=a=b&x=1', 'token=REDACTED&x=1'],
    ['token', 'token'],
    ['&&token=1&&', '&&token=REDACTED&&'],
    ['token=1&token=2', 'token=REDACTED&token=REDACTED'],
    ['tokens=1&xtoken=2', 'tokens=1&xtoken=2'],
  ];
  for (const [input, want] of cases) assert.equal(r(input), want, input);
});

test('redactor: an empty key list passes everything through', () => {
  const r = createQueryRedactor([]);
  assert.equal(r('sig=secret&cmd=test'), 'sig=secret&cmd=test');
});

test('redactor: default list covers OBI defaults, case-insensitively', () => {
  const r = createQueryRedactor();
  assert.equal(r('x-amz-signature=abc&X-Amz-Credential=def&page=2'), 'x-amz-signature=REDACTED&X-Amz-Credential=REDACTED&page=2');
  assert.equal(r('password=hunter2&user=bob&api_key=k'), 'password=REDACTED&user=bob&api_key=REDACTED');
  assert.equal(DEFAULT_SENSITIVE_QUERY_PARAMS.length, 38);
});

test('sensitiveQueryParams: defaults + add - remove', () => {
  const keys = sensitiveQueryParams(['session_key'], ['TOKEN', 'sig']);
  assert.equal(keys.includes('token'), false);
  assert.equal(keys.includes('sig'), false);
  assert.equal(keys.includes('session_key'), true);
  assert.equal(keys.length, DEFAULT_SENSITIVE_QUERY_PARAMS.length - 2 + 1);
  const r = createQueryRedactor(keys);
  assert.equal(r('token=1&sig=2&session_key=3'), 'token=1&sig=2&session_key=REDACTED');
});

test('secret-looking words: split on separators and case changes, exact words only', () => {
  assert.deepEqual(keyWords('X-Api-Key'), ['x', 'api', 'key']);
  assert.deepEqual(keyWords('apiKey'), ['api', 'key']);
  assert.deepEqual(keyWords('aws_secret_access_key'), ['aws', 'secret', 'access', 'key']);
  const r = createQueryRedactor(DEFAULT_SENSITIVE_QUERY_PARAMS, DEFAULT_SENSITIVE_WORDS);
  const cases: [string, string][] = [
    ['key=1&monkey=2', 'key=REDACTED&monkey=2'],
    ['apiKey=k&author=me&keyboard=qwerty', 'apiKey=REDACTED&author=me&keyboard=qwerty'],
    ['auth=a&auth_token=b&db.password=c&Signature=d&page=2', 'auth=REDACTED&auth_token=REDACTED&db.password=REDACTED&Signature=REDACTED&page=2'],
    ['user_secret=s&X-Api-Key=k&q=hello', 'user_secret=REDACTED&X-Api-Key=REDACTED&q=hello'],
  ];
  for (const [input, want] of cases) assert.equal(r(input), want, input);
  // a key named in `remove` is spared by the word rule too
  const spared = createQueryRedactor(sensitiveQueryParams([], ['token']), DEFAULT_SENSITIVE_WORDS, ['token']);
  assert.equal(spared('token=1&auth_token=2'), 'token=1&auth_token=REDACTED');
});
