/**
 * A loopback TCP relay for the fixture generators (gen-h2-fixtures.ts, gen-h2-extract-fixtures.ts):
 * forwards each connection to 127.0.0.1:targetPort and records every read of either side, in
 * order, as a segment of the request or the response direction.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface Seg {
  dir: 'request' | 'response';
  data: Buffer;
}

export async function relay(targetPort: number): Promise<{ port: number; segs: Seg[]; close(): void }> {
  const segs: Seg[] = [];
  const sockets: Socket[] = [];
  const srv = createServer((c) => {
    const up = connect(targetPort, '127.0.0.1');
    sockets.push(c, up);
    c.on('data', (d) => {
      segs.push({ dir: 'request', data: Buffer.from(d) });
      up.write(d);
    });
    up.on('data', (d) => {
      segs.push({ dir: 'response', data: Buffer.from(d) });
      c.write(d);
    });
    c.on('close', () => up.destroy());
    up.on('close', () => c.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return {
    port,
    segs,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}
