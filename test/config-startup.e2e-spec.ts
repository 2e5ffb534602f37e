import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The process as an operator starts it: a bad variable stops it with exit 78 (EX_CONFIG) and one
 * line naming the variable, before anything is touched: the embedded database's folder is never
 * created, so no migration can have run.
 */
const CASES: Array<[string, string]> = [
  ['TRUST_PROXY', 'maybe'],
  ['HOST', 'not a host'],
  ['HOST', 'no-such-host.invalid'],
  ['PORT', '99999'],
  ['DATABASE_POOL_SIZE', 'ten'],
  ['KEY_CACHE_TTL_MS', '-5'],
];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  dataDir: string;
}

describe('Configuration errors at start', () => {
  let root: string;
  const runs = new Map<string, Run>();

  function start(name: string, value: string, index: number): Promise<Run> {
    const dataDir = join(root, `data-${index}`);
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
        cwd: join(__dirname, '..'),
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', [name]: value },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      // A process that got past validation would start serving: stop it rather than wait forever.
      const guard = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.on('exit', (status) => {
        clearTimeout(guard);
        resolve({ status, stdout, stderr, dataDir });
      });
    });
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'trusset-config-'));
    // All at once: each start compiles the sources, which takes long on a loaded machine.
    const results = await Promise.all(CASES.map(([name, value], i) => start(name, value, i)));
    CASES.forEach(([name, value], i) => runs.set(`${name}=${value}`, results[i]));
  }, 300_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each(CASES)('exits 78 with one line naming %s=%s, before the database is touched', (name, value) => {
    const run = runs.get(`${name}=${value}`)!;
    expect(run.status).toBe(78);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Invalid configuration: ${name} must `));
    expect(run.stdout).toBe('');
    expect(existsSync(run.dataDir)).toBe(false);
  });
});
