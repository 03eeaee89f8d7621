/**
 * `make deps-check`: the dependency direction (.dependency-cruiser.cjs) over src/, test/, bench/
 * and scripts/. Fails on any violation that is not in the config's KNOWN_VIOLATIONS list, and on
 * a KNOWN_VIOLATIONS entry that no longer occurs (so the list only ever shrinks).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: { name: string }[];
}

export interface DepsReport {
  /** violations not in KNOWN_VIOLATIONS */
  errors: Violation[];
  /** KNOWN_VIOLATIONS entries that still occur */
  known: Violation[];
  /** KNOWN_VIOLATIONS entries that no longer occur */
  stale: Violation[];
  modules: number;
  imports: number;
}

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `rule: from → to`, the identity of a violation (and of a KNOWN_VIOLATIONS entry) */
export const violationKey = (v: Violation): string => `${v.rule.name}: ${v.from} → ${v.to}`;

/** Cruises `dirs` of `root` with `root`/.dependency-cruiser.cjs. */
export function depsCheck(root: string, dirs: readonly string[]): DepsReport {
  const require = createRequire(import.meta.url);
  const config = require(join(root, '.dependency-cruiser.cjs')) as { options: { knownViolations: Violation[] } };
  const cli = join(repo, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
  const run = spawnSync(process.execPath, [cli, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...dirs], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.error || !run.stdout.startsWith('{')) throw new Error(`dependency-cruiser failed: ${run.stderr || String(run.error)}`);
  const { summary } = JSON.parse(run.stdout) as {
    summary: { violations: Violation[]; totalCruised: number; totalDependenciesCruised: number };
  };
  const ignored = new Set(summary.violations.filter((v) => v.rule.severity === 'ignore').map(violationKey));
  const knownList = config.options.knownViolations;
  return {
    errors: summary.violations.filter((v) => v.rule.severity !== 'ignore' && v.rule.severity !== 'info'),
    known: knownList.filter((v) => ignored.has(violationKey(v))),
    stale: knownList.filter((v) => !ignored.has(violationKey(v))),
    modules: summary.totalCruised,
    imports: summary.totalDependenciesCruised,
  };
}

function main(): void {
  const r = depsCheck(repo, ['src', 'test', 'bench', 'scripts']);
  for (const v of r.errors) {
    const cycle = v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(' → ')})` : '';
    process.stderr.write(`  ${v.rule.severity} ${violationKey(v)}${cycle}\n`);
  }
  for (const v of r.stale) process.stderr.write(`  stale KNOWN_VIOLATIONS entry (the import is gone: delete it): ${violationKey(v)}\n`);
  process.stdout.write(
    `deps-check: ${r.modules} modules, ${r.imports} imports; ${r.errors.length} violations, ` +
      `${r.known.length} known (KNOWN_VIOLATIONS in .dependency-cruiser.cjs), ${r.stale.length} stale\n`,
  );
  process.exitCode = r.errors.length + r.stale.length > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
