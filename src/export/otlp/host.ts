/**
 * `host.id` for resources and points (obi-compat §2.7): `attributes.host_id.override`
 * (OTEL_EBPF_HOST_ID) when set, else the first usable id of {@link HOST_ID_SOURCES}:
 *
 * 1. `/etc/machine-id`, then `/var/lib/dbus/machine-id` (the agent's own root: a host install,
 *    or a container given the host's file with `-v /etc/machine-id:/etc/machine-id:ro`);
 * 2. the same two files under `/proc/1/root/`: with `pid: host` (Docker) or `hostPID: true`
 *    (Kubernetes), PID 1 is the host's init and its root is the host's root, so a container whose
 *    image has no machine id (debian:bookworm-slim has none) still reports the host's;
 * 3. `/sys/class/dmi/id/product_uuid` (readable by root; lower-cased), the firmware's id of the
 *    machine, for hosts without a machine id at all.
 *
 * A machine id of `uninitialized` (systemd's placeholder before first boot) and an all-zero
 * product UUID are skipped. When nothing is found the result is '' and every emitter omits the
 * attribute: `host.id` is never exported empty. Cloud-metadata host ids are not read.
 */
import { readFileSync } from 'node:fs';

export interface HostIdSource {
  readonly path: string;
  readonly kind: 'machine-id' | 'dmi-uuid';
}

export const HOST_ID_SOURCES: readonly HostIdSource[] = Object.freeze([
  { path: '/etc/machine-id', kind: 'machine-id' },
  { path: '/var/lib/dbus/machine-id', kind: 'machine-id' },
  { path: '/proc/1/root/etc/machine-id', kind: 'machine-id' },
  { path: '/proc/1/root/var/lib/dbus/machine-id', kind: 'machine-id' },
  { path: '/sys/class/dmi/id/product_uuid', kind: 'dmi-uuid' },
]);

function usable(raw: string, kind: HostIdSource['kind']): string | undefined {
  const id = raw.trim();
  if (id === '' || /\s/.test(id)) return undefined;
  if (kind === 'machine-id') return id === 'uninitialized' ? undefined : id;
  const uuid = id.toLowerCase();
  return /^[0-9a-f-]+$/.test(uuid) && /[1-9a-f]/.test(uuid) ? uuid : undefined;
}

/**
 * The host id, or '' when there is none. `sources` may be given as plain paths (read as machine
 * ids) for tests.
 */
export function readHostId(override?: string, sources: readonly (HostIdSource | string)[] = HOST_ID_SOURCES): string {
  if (override !== undefined && override.trim() !== '') return override.trim();
  for (const s of sources) {
    const src: HostIdSource = typeof s === 'string' ? { path: s, kind: 'machine-id' } : s;
    try {
      const id = usable(readFileSync(src.path, 'utf8'), src.kind);
      if (id !== undefined) return id;
    } catch {
      // unreadable or absent: next candidate
    }
  }
  return '';
}

/** `{ 'host.id': id }`, or `{}` for an empty id: for attribute sets that must not carry an empty value. */
export function hostIdAttribute(hostId: string): Record<string, string> {
  return hostId === '' ? {} : { 'host.id': hostId };
}
