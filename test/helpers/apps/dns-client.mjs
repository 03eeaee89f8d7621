// Traced DNS client for test/integration/dns.test.ts: Node's dns.promises.Resolver (c-ares)
// pointed at the test's dnsmasq (argv[2]): an A lookup, an NXDOMAIN, and a TXT answer too large
// for UDP (truncated, retried over TCP). Prints a summary.
import { promises as dns } from 'node:dns';

const r = new dns.Resolver({ tries: 1, timeout: 5000 });
r.setServers([process.argv[2]]);
const a = await r.resolve4('web.obi.test');
let missing = '';
try {
  await r.resolve4('missing.obi.test');
} catch (err) {
  missing = err.code;
}
const txt = await r.resolveTxt('big.obi.test');
console.log(JSON.stringify({ a, missing, txt: txt.length }));
