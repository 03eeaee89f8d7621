/**
 * Container and pod identity of a process from its cgroup path (/proc/PID/cgroup), resolved
 * once per process (the caller caches it with the process), never per span.
 *
 * Path formats handled (cgroup v1: every controller line, the `name=systemd` one first; cgroup v2:
 * the `0::` line), the innermost 64-hex id winning (Docker in Docker):
 *
 * | runtime | cgroupfs driver | systemd driver |
 * |---|---|---|
 * | Docker | `/docker/<id>` | `/system.slice/docker-<id>.scope` |
 * | containerd (Kubernetes) | `/kubepods/<qos>/pod<uid>/<id>` | `/kubepods.slice/…/kubepods-<qos>-pod<uid_>.slice/cri-containerd-<id>.scope` |
 * | CRI-O | `/kubepods/<qos>/pod<uid>/crio-<id>` | `…/crio-<id>.scope` (`crio-conmon-<id>.scope` is the monitor, not the container) |
 * | Podman | `/libpod_parent/libpod-<id>` | `/machine.slice/libpod-<id>.scope`, rootless `…/user@1000.service/user.slice/libpod-<id>.scope/container` |
 *
 * Kubernetes pod UIDs appear as `pod<uuid>` (cgroupfs) or `pod<uuid with _ for ->` (systemd).
 */
import { readFileSync } from 'node:fs';

export type ContainerRuntime = 'docker' | 'containerd' | 'cri-o' | 'podman' | 'unknown';

export interface CgroupContainer {
  /** the 64-hex container id */
  readonly containerId: string;
  readonly runtime: ContainerRuntime;
  /** Kubernetes pod UID (with dashes), when the path is under kubepods */
  readonly podUid?: string;
}

const ID = /^(?:(docker|cri-containerd|crio|libpod)-)?([0-9a-f]{64})(?:\.scope)?$/;
const POD = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;

const RUNTIME_OF_PREFIX: Record<string, ContainerRuntime> = { docker: 'docker', 'cri-containerd': 'containerd', crio: 'cri-o', libpod: 'podman' };

/** The container of one cgroup path, or undefined for a path outside any container. */
export function containerFromCgroupPath(path: string): CgroupContainer | undefined {
  const segs = path.split('/');
  let found: { id: string; prefix: string | undefined; at: number } | undefined;
  let podUid: string | undefined;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const m = ID.exec(seg);
    if (m) found = { id: m[2], prefix: m[1], at: i };
    const p = POD.exec(seg);
    if (p) podUid = p[1].replaceAll('_', '-');
  }
  if (!found) return undefined;
  let runtime: ContainerRuntime = found.prefix !== undefined ? RUNTIME_OF_PREFIX[found.prefix] : 'unknown';
  if (runtime === 'unknown') {
    const parent = segs[found.at - 1] ?? '';
    if (parent === 'docker') runtime = 'docker';
    else if (parent === 'libpod_parent') runtime = 'podman';
    else if (podUid !== undefined) runtime = 'containerd';
  }
  return podUid !== undefined ? { containerId: found.id, runtime, podUid } : { containerId: found.id, runtime };
}

/**
 * The container of a process from the text of /proc/PID/cgroup: the cgroup v2 line and the v1
 * `name=systemd` line first, then every other controller.
 */
export function containerFromCgroupFile(text: string): CgroupContainer | undefined {
  const paths: { rank: number; path: string }[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b < 0) continue;
    const controllers = line.slice(a + 1, b);
    const rank = controllers === '' ? 0 : controllers === 'name=systemd' ? 1 : 2;
    paths.push({ rank, path: line.slice(b + 1) });
  }
  paths.sort((x, y) => x.rank - y.rank);
  for (const p of paths) {
    const c = containerFromCgroupPath(p.path);
    if (c) return c;
  }
  return undefined;
}

/** Reads /proc/PID/cgroup; undefined when the process is in no container or is gone. */
export function readContainer(pid: number, procRoot = '/proc'): CgroupContainer | undefined {
  try {
    return containerFromCgroupFile(readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8'));
  } catch {
    return undefined;
  }
}
