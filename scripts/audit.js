// CI's dependency check: fails on a high or critical advisory in production dependencies. A registry
// that does not serve npm's audit endpoint (the case on a mirror) is reported and skipped, since no
// answer is not the same as a clean answer.
const { spawnSync } = require('node:child_process');

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  report = undefined;
}
const counts = report?.metadata?.vulnerabilities;
if (!counts) {
  process.stderr.write(
    `npm audit: the registry's audit service did not answer; skipped.\n${(run.stderr || '').split('\n').slice(0, 3).join('\n')}\n`,
  );
  process.exit(0);
}
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
process.stdout.write(`npm audit (production): ${JSON.stringify(counts)}\n`);
if (serious > 0) {
  process.stdout.write(run.stdout);
  process.exit(1);
}
