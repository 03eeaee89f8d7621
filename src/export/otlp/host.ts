/**
 * `host.id` for resources (obi-compat §2.7): `attributes.host_id.override`
 * (OTEL_EBPF_HOST_ID) when set, else the machine id (/etc/machine-id, then
 * /var/lib/dbus/machine-id), else '' (then omitted). Cloud-metadata host ids are not read.
 */
import { readFileSync } from 'node:fs';

export const MACHINE_ID_FILES: readonly string[] = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

export function readHostId(override?: string, files: readonly string[] = MACHINE_ID_FILES): string {
  if (override !== undefined && override.trim() !== '') return override.trim();
  for (const f of files) {
    try {
      const id = readFileSync(f, 'utf8').trim();
      if (id !== '') return id;
    } catch {
      // next candidate
    }
  }
  return '';
}
