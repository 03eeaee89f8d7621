// The AWS SDK for JavaScript v3 (@aws-sdk/client-s3) against s3rver: ENDPOINT from argv[2],
// bucket argv[3]. Create the bucket, put, get, list, delete, a missing key (NoSuchKey), a multipart upload (two
// parts). Prints one JSON line: what each step saw.
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

const [endpoint, bucket] = process.argv.slice(2);
const s3 = new S3Client({
  endpoint,
  region: 'eu-west-3',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
  maxAttempts: 1,
});
const out = {};
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'notes/a.txt', Body: 'hello s3' }));
const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'notes/a.txt' }));
out.body = await got.Body.transformToString();
const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
out.keys = (list.Contents ?? []).map((c) => c.Key);
await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'notes/a.txt' }));
try {
  await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing.txt' }));
} catch (e) {
  out.missing = e.name;
}
const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big.bin' }));
const parts = [];
for (const PartNumber of [1, 2]) {
  const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big.bin', UploadId, PartNumber, Body: Buffer.alloc(PartNumber === 1 ? 5 * 1024 * 1024 : 1024, PartNumber) }));
  parts.push({ PartNumber, ETag: r.ETag });
}
await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'big.bin', UploadId, MultipartUpload: { Parts: parts } }));
out.multipart = true;
console.log(JSON.stringify(out));
