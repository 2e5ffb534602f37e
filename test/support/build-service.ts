import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/**
 * Builds dist/ as `nest build` does, for suites that run the built service as a process: the
 * TypeScript sources, then the page assets that nest-cli.json copies (src/pages/public), without
 * which the service refuses to start.
 */
export function buildService(): void {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  cpSync(resolve(ROOT, 'src/pages/public'), resolve(ROOT, 'dist/src/pages/public'), { recursive: true });
}
