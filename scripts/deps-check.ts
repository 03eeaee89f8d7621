/**
 * `make deps-check`: the dependency direction (.dependency-cruiser.cjs) over src/, test/, bench/
 * and scripts/. Fails on any violation that is not in the config's KNOWN_VIOLATIONS list, and on
 * a KNOWN_VIOLATIONS entry that no longer occurs (so the list only ever shrinks).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: { name: string }[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const config = require(join(root, '.dependency-cruiser.cjs')) as { options: { knownViolations: Violation[] } };
const cli = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
const dirs = ['src', 'test', 'bench', 'scripts'];

const run = spawnSync(process.execPath, [cli, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...dirs], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
if (run.error || !run.stdout.startsWith('{')) {
  process.stderr.write(run.stderr || String(run.error));
  process.exit(2);
}
const { summary } = JSON.parse(run.stdout) as { summary: { violations: Violation[]; totalCruised: number; totalDependenciesCruised: number } };

const key = (v: Violation): string => `${v.rule.name}: ${v.from} → ${v.to}`;
const line = (v: Violation): string =>
  v.cycle ? `${key(v)} (cycle: ${v.cycle.map((c) => c.name).join(' → ')})` : key(v);
const errors = summary.violations.filter((v) => v.rule.severity === 'error' || v.rule.severity === 'warn');
const ignored = new Set(summary.violations.filter((v) => v.rule.severity === 'ignore').map(key));
const stale = config.options.knownViolations.filter((v) => !ignored.has(key(v)));

for (const v of errors) process.stderr.write(`  ${v.rule.severity} ${line(v)}\n`);
for (const v of stale) process.stderr.write(`  stale KNOWN_VIOLATIONS entry (the import is gone: delete it): ${key(v)}\n`);
const known = config.options.knownViolations.length - stale.length;
process.stdout.write(
  `deps-check: ${summary.totalCruised} modules, ${summary.totalDependenciesCruised} imports; ` +
    `${errors.length} violations, ${known} known (KNOWN_VIOLATIONS in .dependency-cruiser.cjs), ${stale.length} stale\n`,
);
process.exit(errors.length + stale.length > 0 ? 1 : 0);
