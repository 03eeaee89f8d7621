/**
 * AWS S3 over HTTP, client side (OBI: `ebpf.payload_extraction.http.aws.enabled`). An exchange
 * is S3's when the request is signed for the `s3` service (Signature V4: the credential scope
 * `<key>/<date>/<region>/s3/aws4_request` of the `Authorization` header or of a presigned URL's
 * `X-Amz-Credential`), or when the response carries an AWS request id and the Host is an S3
 * endpoint (`s3.<region>.amazonaws.com`, `<bucket>.s3...`).
 *
 * Span (as OBI; docs/reference/spans.md, AWS S3): name `s3.<Operation>` (`s3.Operation` when it is not known),
 * `rpc.system.name=aws-api`, `rpc.method` (the S3 API operation, from the method, the path or
 * virtual host, the query and `x-amz-copy-source`), `aws.s3.bucket`, `aws.s3.key`,
 * `cloud.region` (from the endpoint's host name, else the signature's credential scope, else
 * `x-amz-bucket-region`), `aws.request_id` (`x-amz-request-id` and its variants, else the
 * `RequestId` of an error body), `aws.extended_request_id` (`x-amz-id-2`). An error response's
 * `<Code>` (`NoSuchKey`) becomes `error.type`, its `<Message>` the status message.
 */
import type { HttpEnrichment, HttpExtractor, HttpPayload } from '../common/http-extract.ts';
import { headerValue, switchedOn } from '../common/http-extract.ts';
import type { HttpRecord } from '../common/records.ts';

const REQUEST_ID_HEADERS = ['x-amz-request-id', 'x-amz-requestid', 'x-amzn-requestid', 'x-amzn-request-id'];

/** `<region>.amazonaws.com` at the end of an S3 host name */
const HOST_REGION = /(?:^|\.)(?:s3[.-])?([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com$/;
/** an S3 endpoint host: `s3.amazonaws.com`, `s3.<region>...`, `s3-<region>...`, `<bucket>.s3...` */
const S3_HOST = /(?:^|\.)s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com$/;
/** the virtual-hosted bucket: `<bucket>.s3.` / `<bucket>.s3-` */
const VHOST_BUCKET = /^(.+?)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com$/;
/** SigV4 credential scope: `<key>/<yyyymmdd>/<region>/<service>/aws4_request` */
const SCOPE = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;
const QUERY_SCOPE = /(?:^|&)X-Amz-Credential=[^&/]*(?:%2F|\/)\d{8}(?:%2F|\/)([^&%/]+)(?:%2F|\/)([^&%/]+)(?:%2F|\/)aws4_request/i;

/** the signature's `{region, service}`, if the request is signed (header or presigned URL) */
function signatureScope(rec: HttpRecord, payload: HttpPayload): { region: string; service: string } | undefined {
  const auth = headerValue(payload.requestHeaders, 'authorization');
  const m = auth === undefined ? undefined : SCOPE.exec(auth);
  if (m !== undefined && m !== null) return { region: m[1], service: m[2] };
  const q = rec.query === undefined ? null : QUERY_SCOPE.exec(rec.query);
  return q === null ? undefined : { region: q[1], service: q[2] };
}

/** the host part of a Host header (`[v6]:port`, `name:port`, `name`) */
function hostName(host: string | undefined): string | undefined {
  if (host === undefined || host.length === 0) return undefined;
  if (host.startsWith('[')) {
    const e = host.indexOf(']');
    return e > 1 ? host.slice(1, e) : undefined;
  }
  const c = host.indexOf(':');
  return c < 0 || host.indexOf(':', c + 1) >= 0 ? host : host.slice(0, c);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** the query's parameter names (`uploads`, `uploadId`, `list-type`, ...) */
function queryNames(query: string | undefined): Set<string> {
  const out = new Set<string>();
  if (query === undefined || query.length === 0) return out;
  for (const kv of query.split('&')) {
    const eq = kv.indexOf('=');
    out.add(eq < 0 ? kv : kv.slice(0, eq));
  }
  return out;
}

/** bucket sub-resources that name their own Get/Put/Delete operations */
const BUCKET_SUBRESOURCES: Readonly<Record<string, string>> = {
  acl: 'Acl',
  policy: 'Policy',
  versioning: 'Versioning',
  tagging: 'Tagging',
  cors: 'Cors',
  lifecycle: 'LifecycleConfiguration',
  website: 'Website',
  encryption: 'Encryption',
  notification: 'NotificationConfiguration',
  logging: 'Logging',
  replication: 'Replication',
};

const VERBS: Readonly<Record<string, string>> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete' };

/** The S3 API operation of a request (S3 API reference), or undefined when none matches. */
export function s3Operation(method: string, bucket: string | undefined, key: string | undefined, query: string | undefined, copySource: boolean): string | undefined {
  const q = queryNames(query);
  if (bucket === undefined) return method === 'GET' ? 'ListBuckets' : undefined;
  if (key === undefined) {
    for (const [sub, name] of Object.entries(BUCKET_SUBRESOURCES)) {
      if (q.has(sub) && VERBS[method] !== undefined) return `${VERBS[method]}Bucket${name}`;
    }
    switch (method) {
      case 'GET':
        if (q.has('uploads')) return 'ListMultipartUploads';
        if (q.has('versions')) return 'ListObjectVersions';
        if (q.has('location')) return 'GetBucketLocation';
        return queryValue(query, 'list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      case 'PUT':
        return 'CreateBucket';
      case 'HEAD':
        return 'HeadBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'POST':
        return q.has('delete') ? 'DeleteObjects' : undefined;
    }
    return undefined;
  }
  switch (method) {
    case 'GET':
      if (q.has('uploadId')) return 'ListParts';
      if (q.has('tagging')) return 'GetObjectTagging';
      if (q.has('acl')) return 'GetObjectAcl';
      if (q.has('attributes')) return 'GetObjectAttributes';
      return 'GetObject';
    case 'PUT':
      if (q.has('partNumber') && q.has('uploadId')) return copySource ? 'UploadPartCopy' : 'UploadPart';
      if (q.has('tagging')) return 'PutObjectTagging';
      if (q.has('acl')) return 'PutObjectAcl';
      return copySource ? 'CopyObject' : 'PutObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      if (q.has('uploadId')) return 'AbortMultipartUpload';
      if (q.has('tagging')) return 'DeleteObjectTagging';
      return 'DeleteObject';
    case 'POST':
      if (q.has('uploads')) return 'CreateMultipartUpload';
      if (q.has('uploadId')) return 'CompleteMultipartUpload';
      if (q.has('restore')) return 'RestoreObject';
      if (q.has('select')) return 'SelectObjectContent';
      return undefined;
  }
  return undefined;
}

function queryValue(query: string | undefined, name: string): string | undefined {
  if (query === undefined) return undefined;
  for (const kv of query.split('&')) {
    const eq = kv.indexOf('=');
    if ((eq < 0 ? kv : kv.slice(0, eq)) === name) return eq < 0 ? '' : decode(kv.slice(eq + 1));
  }
  return undefined;
}

/** `<Tag>text</Tag>` of an XML error body (no entities beyond the five predefined ones) */
function xmlText(body: string, tag: string): string | undefined {
  const open = `<${tag}>`;
  const s = body.indexOf(open);
  if (s < 0) return undefined;
  const e = body.indexOf(`</${tag}>`, s + open.length);
  if (e < 0) return undefined;
  return body
    .slice(s + open.length, e)
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}

/** The enrichment of one exchange, or undefined when it is not an S3 call. */
export function extractS3(rec: HttpRecord, payload: HttpPayload): HttpEnrichment | undefined {
  const host = hostName(rec.host)?.toLowerCase();
  const scope = signatureScope(rec, payload);
  let requestId: string | undefined;
  for (const h of REQUEST_ID_HEADERS) {
    requestId = headerValue(payload.responseHeaders, h);
    if (requestId !== undefined) break;
  }
  const s3Host = host !== undefined && S3_HOST.test(host);
  if (scope !== undefined ? scope.service !== 's3' : !(requestId !== undefined && s3Host)) return undefined;

  // bucket and key: virtual-hosted style, else path style
  const segs = rec.path.split('/');
  let bucket: string | undefined;
  let key: string | undefined;
  const vhost = host === undefined ? null : VHOST_BUCKET.exec(host);
  if (vhost !== null) {
    bucket = vhost[1];
    const k = rec.path.slice(1);
    key = k.length > 0 ? decode(k) : undefined;
  } else {
    bucket = segs.length > 1 && segs[1].length > 0 ? decode(segs[1]) : undefined;
    const k = segs.slice(2).join('/');
    key = k.length > 0 ? decode(k) : undefined;
  }
  const copySource = headerValue(payload.requestHeaders, 'x-amz-copy-source') !== undefined;
  const operation = s3Operation(rec.method, bucket, key, rec.query, copySource);

  const attributes: Record<string, string> = { 'rpc.system.name': 'aws-api' };
  if (operation !== undefined) attributes['rpc.method'] = operation;
  if (bucket !== undefined) attributes['aws.s3.bucket'] = bucket;
  if (key !== undefined) attributes['aws.s3.key'] = key;
  const hostRegion = host === undefined ? null : HOST_REGION.exec(host);
  const region = hostRegion?.[1] ?? scope?.region ?? headerValue(payload.responseHeaders, 'x-amz-bucket-region');
  if (region !== undefined && region.length > 0) attributes['cloud.region'] = region;
  const extended = headerValue(payload.responseHeaders, 'x-amz-id-2');

  let errorType: string | undefined;
  let errorMessage: string | undefined;
  if (rec.status >= 300 && payload.responseBody.length > 0) {
    const body = payload.responseBody.toString('utf8');
    if (body.includes('<Error>')) {
      errorType = xmlText(body, 'Code');
      errorMessage = xmlText(body, 'Message');
      requestId ??= xmlText(body, 'RequestId');
    }
  }
  if (requestId !== undefined && requestId.length > 0) attributes['aws.request_id'] = requestId;
  if (extended !== undefined && extended.length > 0) attributes['aws.extended_request_id'] = extended;
  return {
    name: `s3.${operation ?? 'Operation'}`,
    attributes,
    ...(errorType === undefined ? undefined : { errorType, ...(errorMessage === undefined ? undefined : { errorMessage }) }),
  };
}

export const awsS3: HttpExtractor = Object.freeze<HttpExtractor>({
  name: 'aws-s3',
  enabled: (config) => switchedOn(config, 'aws'),
  roles: Object.freeze(['client'] as const),
  extract: (rec, payload) => extractS3(rec, payload),
});
