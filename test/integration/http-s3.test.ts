/**
 * AWS S3 end to end on the real kernel (ebpf.payload_extraction.http.aws): the real AWS CLI
 * (Debian awscli, `s3api` commands and a multipart `s3 cp`) and the AWS SDK for JavaScript v3
 * (@aws-sdk/client-s3) against s3rver, an S3-compatible server, on loopback. s3rver does not
 * send S3's request-id headers; its launcher (test/helpers/apps/s3rver-server.mjs) adds
 * `x-amz-request-id` / `x-amz-id-2` numbered per request and logs them, so each span's ids are
 * checked against the server's own log. Exact client spans: `s3.<Operation>`, bucket, key,
 * region (from the SigV4 credential scope), request ids, NoSuchKey as error.type.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, startProcess, waitFor, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';

const serverApp = join(import.meta.dirname, '../helpers/apps/s3rver-server.mjs');
const sdkClient = join(import.meta.dirname, '../helpers/apps/s3-sdk-client.mjs');
const AWS = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';
const REGION = 'eu-west-3';

describe('AWS S3: the AWS CLI and the AWS SDK for JavaScript against s3rver', () => {
  let agent: TestAgent;
  let s3: Proc;
  let port: number;
  let gate: Gate;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'obi-s3-'));
    s3 = startProcess(nodeBin, [serverApp, String(port), join(dir, 'data')]);
    await waitForPort(port);
    gate = createGate();
    writeFileSync(join(dir, 'aws-config'), '[default]\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n');
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(6 * 1024 * 1024, 7));
    writeFileSync(join(dir, 'report.txt'), 'quarterly numbers\n');
    env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_DEFAULT_REGION: REGION, AWS_CONFIG_FILE: join(dir, 'aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '' };
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_HTTP_AWS_ENABLED: 'true' });
  });

  after(async () => {
    await agent?.stop();
    await s3?.kill();
    gate?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** the request id the server gave `METHOD url` (from its log) */
  const requestId = (method: string, url: string): string | undefined => {
    for (const line of s3.output().split('\n')) {
      const [id, m, u] = line.split(' ');
      if (m === method && u === url) return id;
    }
    return undefined;
  };

  /** check the S3 attributes common to every span and return [name, key, error.type] */
  const check = (s: SpanJSON, bucket: string): [string, string | undefined, string | undefined] => {
    assert.equal(s.kind, 'client');
    assert.equal(s.attributes['rpc.system.name'], 'aws-api');
    assert.equal(s.attributes['rpc.method'], s.name.slice(3));
    assert.equal(s.attributes['aws.s3.bucket'], bucket);
    assert.equal(s.attributes['cloud.region'], REGION);
    assert.equal(s.attributes['server.port'], port);
    const url = new URL(String(s.attributes['url.full']));
    const id = requestId(String(s.attributes['http.request.method']), url.pathname + url.search);
    assert.ok(id !== undefined, `no server log line for ${String(s.attributes['url.full'])}`);
    assert.equal(s.attributes['aws.request_id'], id);
    assert.equal(s.attributes['aws.extended_request_id'], `ext-${id}`);
    return [s.name, s.attributes['aws.s3.key'] as string | undefined, s.attributes['error.type'] as string | undefined];
  };

  test('AWS CLI: create-bucket, put, get, list, missing key, delete, multipart cp', async () => {
    const bucket = 'bkt-cli';
    const cli = async (args: string[], code = 0): Promise<number> => {
      const r = await runGated(agent, gate, AWS, ['--endpoint-url', `http://127.0.0.1:${port}`, ...args], { env, timeoutMs: 60_000 });
      assert.equal(r.code, code, r.output);
      return r.pid;
    };
    const pids = [
      await cli(['s3api', 'create-bucket', '--bucket', bucket]),
      await cli(['s3api', 'put-object', '--bucket', bucket, '--key', 'docs/report.txt', '--body', join(dir, 'report.txt')]),
      await cli(['s3api', 'get-object', '--bucket', bucket, '--key', 'docs/report.txt', join(dir, 'out.txt')]),
      await cli(['s3api', 'list-objects-v2', '--bucket', bucket]),
      await cli(['s3api', 'get-object', '--bucket', bucket, '--key', 'missing.txt', join(dir, 'out2.txt')], 254),
      await cli(['s3api', 'delete-object', '--bucket', bucket, '--key', 'docs/report.txt']),
      await cli(['s3', 'cp', '--no-progress', join(dir, 'big.bin'), `s3://${bucket}/big.bin`]),
    ];
    const expected: [string, string | undefined, string | undefined][][] = [
      [['s3.CreateBucket', undefined, undefined]],
      [['s3.PutObject', 'docs/report.txt', undefined]],
      [['s3.GetObject', 'docs/report.txt', undefined]],
      [['s3.ListObjectsV2', undefined, undefined]],
      [['s3.GetObject', 'missing.txt', 'NoSuchKey']],
      [['s3.DeleteObject', 'docs/report.txt', undefined]],
      [['s3.CompleteMultipartUpload', 'big.bin', undefined], ['s3.CreateMultipartUpload', 'big.bin', undefined], ['s3.UploadPart', 'big.bin', undefined], ['s3.UploadPart', 'big.bin', undefined]],
    ];
    for (let i = 0; i < pids.length; i++) {
      const want = expected[i];
      await agent.waitSpans(want.length, (s) => s.service.pid === pids[i]);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < pids.length; i++) {
      const spans = agent.spans((s) => s.service.pid === pids[i]);
      const got = spans.map((s) => check(s, bucket)).sort((a, b) => a[0].localeCompare(b[0]));
      assert.deepEqual(got, expected[i], `command ${i}`);
    }
    const missing = agent.spans((s) => s.service.pid === pids[4])[0];
    assert.equal(missing.status, 'error');
    assert.equal(missing.statusMessage, 'The specified key does not exist.');
    assert.equal(missing.attributes['http.response.status_code'], 404);
  });

  test('AWS SDK for JavaScript: create, put, get, list, delete, NoSuchKey, multipart upload', async () => {
    const bucket = 'bkt-sdk';
    const r = await runGated(agent, gate, nodeBin, [sdkClient, `http://127.0.0.1:${port}`, bucket], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { body: 'hello s3', keys: ['notes/a.txt'], missing: 'NoSuchKey', multipart: true });
    const want: [string, string | undefined, string | undefined][] = [
      ['s3.CreateBucket', undefined, undefined],
      ['s3.PutObject', 'notes/a.txt', undefined],
      ['s3.GetObject', 'notes/a.txt', undefined],
      ['s3.ListObjectsV2', undefined, undefined],
      ['s3.DeleteObject', 'notes/a.txt', undefined],
      ['s3.GetObject', 'missing.txt', 'NoSuchKey'],
      ['s3.CreateMultipartUpload', 'big.bin', undefined],
      ['s3.UploadPart', 'big.bin', undefined],
      ['s3.UploadPart', 'big.bin', undefined],
      ['s3.CompleteMultipartUpload', 'big.bin', undefined],
    ];
    await agent.waitSpans(want.length, (s) => s.service.pid === r.pid);
    await new Promise((res) => setTimeout(res, 300));
    const spans = agent.spans((s) => s.service.pid === r.pid);
    assert.deepEqual(spans.map((s) => check(s, bucket)), want);
    // the S3 spans stay HTTP client spans (OBI routes S3 to http.client.request.duration): 10 CLI + 10 SDK
    const total = await waitFor('the S3 client spans in http_client_request_duration_seconds', async () => {
      const text = await agent.metrics();
      const n = text
        .split('\n')
        .filter((l) => l.startsWith('http_client_request_duration_seconds_count{') && l.includes(`server_port="${port}"`))
        .reduce((acc, l) => acc + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      return n >= 20 ? n : undefined;
    });
    assert.equal(total, 20);
  });
});
