/**
 * Fuzzing the AWS S3 extractor on the HTTP/1 parser (test/helpers/http-extract-fuzz.ts).
 */
import fc from 'fast-check';
import { fuzzExtractor, message, type GeneratedExchange } from '../../../test/helpers/http-extract-fuzz.ts';
import { awsS3 } from './index.ts';

const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9-]{2,10}$/);
const key = fc.stringMatching(/^[a-zA-Z0-9_-]{1,8}(\/[a-zA-Z0-9_-]{1,8}){0,2}$/);
const hex = fc.stringMatching(/^[0-9A-F]{16}$/);

/** method, query, has a key, operation */
const OPERATIONS: readonly (readonly [string, string, boolean, string])[] = [
  ['PUT', '', true, 'PutObject'],
  ['GET', '', true, 'GetObject'],
  ['HEAD', '', true, 'HeadObject'],
  ['DELETE', '', true, 'DeleteObject'],
  ['POST', '?uploads', true, 'CreateMultipartUpload'],
  ['PUT', '?partNumber=1&uploadId=u', true, 'UploadPart'],
  ['POST', '?uploadId=u', true, 'CompleteMultipartUpload'],
  ['GET', '?list-type=2', false, 'ListObjectsV2'],
  ['PUT', '', false, 'CreateBucket'],
  ['DELETE', '', false, 'DeleteBucket'],
];

const exchangeArb: fc.Arbitrary<GeneratedExchange> = fc
  .record({ op: fc.constantFrom(...OPERATIONS), bucket, key, region: fc.constantFrom('us-east-1', 'eu-west-3', 'ap-southeast-2'), id: fc.option(hex, { nil: undefined }) })
  .map(({ op, bucket, key, region, id }) => {
    const [method, query, hasKey, operation] = op;
    const path = hasKey ? `/${bucket}/${key}` : `/${bucket}`;
    const auth = `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/${region}/s3/aws4_request, SignedHeaders=host, Signature=00`;
    const attributes: Record<string, string> = { 'rpc.system.name': 'aws-api', 'rpc.method': operation, 'aws.s3.bucket': bucket };
    if (hasKey) attributes['aws.s3.key'] = key;
    attributes['cloud.region'] = region;
    if (id !== undefined) attributes['aws.request_id'] = id;
    return {
      req: message(`${method} ${path}${query} HTTP/1.1`, [['Host', '127.0.0.1:9000'], ['Authorization', auth]], method === 'PUT' && hasKey ? 'data' : ''),
      resp: message('HTTP/1.1 200 OK', id === undefined ? [] : [['x-amz-request-id', id]], ''),
      expect: { name: `s3.${operation}`, attributes },
    };
  });

fuzzExtractor(awsS3, 'client', exchangeArb, [
  'GET /b/k HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/s3/aws4_request\r\n\r\n',
  'HTTP/1.1 404 Not Found\r\nContent-Length: 60\r\n\r\n<Error><Code>NoSuchKey</Code><Message>m</Message></Error>',
  'x-amz-request-id: 0123456789ABCDEF\r\n',
  'Host: b.s3.us-west-2.amazonaws.com\r\n',
]);
