/**
 * A real DNS server for the DNS tests: Debian's dnsmasq (the `dnsmasq-base` binary: no system
 * service is installed or started), authoritative for `obi.test` only, on port 53 of a private
 * loopback address chosen at random in 127.83.0.0/16 (so that glibc's resolver, which knows no
 * ports, can be pointed at it; the host's own resolver configuration is never touched).
 *
 * Names: `web.obi.test` A 10.1.2.3; `big.obi.test` eight TXT records (~1 KB: with
 * `--edns-packet-max=512` the UDP answer is truncated and clients retry over TCP); any other
 * name under obi.test is NXDOMAIN.
 */
import { startProcess, sleep, type Proc } from './harness.ts';

export interface DnsServer {
  readonly address: string;
  stop(): Promise<void>;
}

export const BIG_TXT_RECORDS = 8;

export async function startDnsmasq(): Promise<DnsServer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const address = `127.83.${10 + Math.floor(Math.random() * 240)}.${1 + Math.floor(Math.random() * 250)}`;
    const txt = Array.from({ length: BIG_TXT_RECORDS }, (_, i) => `--txt-record=big.obi.test,${'x'.repeat(120)}${i}`);
    const proc: Proc = startProcess('/usr/sbin/dnsmasq', [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--port=53',
      `--listen-address=${address}`,
      '--bind-interfaces',
      '--local=/obi.test/',
      '--host-record=web.obi.test,10.1.2.3',
      '--edns-packet-max=512',
      '--pid-file=',
      '--user=root',
      '--log-facility=-',
      ...txt,
    ]);
    // ready when it says so; gone when the address was taken
    for (let i = 0; i < 100; i++) {
      if (proc.output().includes('cleared cache') || proc.output().includes('using only locally-known')) break;
      if (proc.child.exitCode !== null) break;
      await sleep(30);
    }
    if (proc.child.exitCode === null) {
      await sleep(100);
      return { address, stop: () => proc.kill() };
    }
  }
  throw new Error('dnsmasq did not start on any 127.83.x.y:53');
}
