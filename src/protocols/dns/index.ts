/**
 * DNS (client side), over UDP and TCP: one record per query and its response (question name and
 * type, response code, answer count). Instrumentation `dns`, off by default as in OBI: UDP capture
 * is enabled in the kernel only when `dns` is listed in an `instrumentations` key.
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor } from '../common/descriptor.ts';
import { detectDnsTcp, detectDnsUdp, findDnsTcpBoundary, findDnsUdpBoundary } from './detect.ts';
import { newDnsState, parseDnsTcpFrame, parseDnsUdpFrame, type DnsState } from './parse.ts';
import { stitchDns } from './stitch.ts';
import type { DnsFrame, DnsOperation } from './types.ts';

type DnsParser = ProtocolParser<DnsFrame, DnsFrame, DnsOperation, DnsState>;

export const dnsUdpParser: DnsParser = Object.freeze({
  newState: () => newDnsState(),
  findFrameBoundary: findDnsUdpBoundary,
  parseFrame: parseDnsUdpFrame,
  stitch: stitchDns('udp'),
});

export const dnsTcpParser: DnsParser = Object.freeze({
  newState: () => newDnsState(),
  findFrameBoundary: findDnsTcpBoundary,
  parseFrame: parseDnsTcpFrame,
  stitch: stitchDns('tcp'),
});

/** DNS over UDP (the kernel hands over only datagrams that look like DNS, and only with `dns` enabled). */
export const dnsUdp: ProtocolDescriptor<DnsOperation> = Object.freeze({
  name: 'dns',
  wire: 'dns-udp',
  category: 'dns',
  datagram: true,
  detect: detectDnsUdp,
  createParser: () => dnsUdpParser,
});

/** DNS over TCP (length-prefixed messages: zone transfers, answers too large for UDP). */
export const dnsTcp: ProtocolDescriptor<DnsOperation> = Object.freeze({
  name: 'dns',
  wire: 'dns-tcp',
  category: 'dns',
  detect: detectDnsTcp,
  createParser: () => dnsTcpParser,
});

export { detectDnsTcp, detectDnsUdp } from './detect.ts';
export { parseMessage, rcodeName, typeName } from './message.ts';
export type { DnsFrame, DnsOperation } from './types.ts';
