/** The ring buffer's size: set by the user, or raised from the default while the larger HTTP capture is on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.ts';
import { LARGE_CAPTURE_RING_BYTES, largeHttpBytes, ringBufferBytes } from './large-capture.ts';

const BASE = { OTEL_EBPF_OPEN_PORT: '80', OTEL_EBPF_TRACE_PRINTER: 'counter' };
const GENAI = { OTEL_EBPF_TRACES_INSTRUMENTATIONS: 'http,genai', OTEL_EBPF_HTTP_OPENAI_ENABLED: 'true' };

test('unset, the ring is 4 MiB, and 16 MiB while the larger capture is on', () => {
  assert.equal(LARGE_CAPTURE_RING_BYTES, 16_777_216);
  const plain = loadConfig({ env: BASE });
  assert.equal(largeHttpBytes(plain), 0);
  assert.equal(ringBufferBytes(plain), 4_194_304);
  const large = loadConfig({ env: { ...BASE, ...GENAI, OTEL_EBPF_BPF_BUFFER_SIZE_HTTP: '65536' } });
  assert.equal(largeHttpBytes(large), 65_536);
  assert.equal(ringBufferBytes(large), 16_777_216);
  // buffer_sizes.http without a body-reading extractor: the capture stays off, so does the raise
  const noExtractor = loadConfig({ env: { ...BASE, OTEL_EBPF_BPF_BUFFER_SIZE_HTTP: '65536' } });
  assert.equal(largeHttpBytes(noExtractor), 0);
  assert.equal(ringBufferBytes(noExtractor), 4_194_304);
});

test('a size the user set is kept, smaller or larger, from the environment or the file', () => {
  const env = { ...BASE, ...GENAI, OTEL_EBPF_BPF_BUFFER_SIZE_HTTP: '65536' };
  assert.equal(ringBufferBytes(loadConfig({ env: { ...env, OTEL_EBPF_BPF_RING_BUFFER_SIZE: '4194304' } })), 4_194_304);
  assert.equal(ringBufferBytes(loadConfig({ env: { ...env, OTEL_EBPF_BPF_RING_BUFFER_SIZE: '67108864' } })), 67_108_864);
  const dir = mkdtempSync(join(tmpdir(), 'obi-ring-'));
  try {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'ebpf:\n  ring_buffer_size: 8388608\n  buffer_sizes:\n    http: 65536\n');
    const c = loadConfig({ configPath: file, env: { ...BASE, ...GENAI } });
    assert.equal(c.ringBufferSizeSet, true);
    assert.equal(ringBufferBytes(c), 8_388_608);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
