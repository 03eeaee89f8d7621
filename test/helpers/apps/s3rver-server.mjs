// s3rver (an S3-compatible server) for the S3 integration test: PORT from argv[2], data under
// argv[3]. s3rver does not send S3's common response headers x-amz-request-id and x-amz-id-2
// (Amazon S3 API reference, "Common Response Headers"); a Koa middleware placed first adds them,
// numbered in arrival order, and prints one line per request: `<request id> <METHOD> <url>`.
import S3rver from 's3rver';

let n = 0;
const server = new S3rver({ port: Number(process.argv[2]), address: '127.0.0.1', silent: true, directory: process.argv[3] });
server.middleware.unshift(async (ctx, next) => {
  n++;
  const id = `REQ${String(n).padStart(13, '0')}`;
  ctx.set('x-amz-request-id', id);
  ctx.set('x-amz-id-2', `ext-${id}`);
  process.stdout.write(`${id} ${ctx.method} ${ctx.url}\n`);
  await next();
});
await server.run();
console.log('listening');
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
